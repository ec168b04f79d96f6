/**
 * OpenID Connect Discovery for issuers without a pinned `jwksUri`: where the document lives and
 * which of its fields we trust. The document's `issuer` must equal the configured issuer byte for
 * byte (OIDC Discovery §4.3) and its `jwks_uri` must be https (http only on loopback), so a
 * tampered or misrouted document cannot point us at someone else's keys.
 */

import { isAllowedEndpointUrl } from '../config/schema.ts';
import type { Result } from '../kernel/result.ts';

export type ParseDiscoveryResult = Result<
  { jwksUri: string },
  { cause: 'issuer_mismatch' | 'invalid'; detail: string }
>;

/** OIDC Discovery §4: the issuer with any trailing `/` removed, plus the well-known path. */
export function discoveryUrl(issuer: string): string {
  let end = issuer.length;
  while (end > 0 && issuer[end - 1] === '/') end--;
  return `${issuer.slice(0, end)}/.well-known/openid-configuration`;
}

export function parseDiscovery(doc: unknown, issuer: string): ParseDiscoveryResult {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { ok: false, cause: 'invalid', detail: 'discovery document is not a JSON object' };
  }
  const record = doc as Record<string, unknown>;
  // The published value is IdP data: say that it differs, never echo it.
  if (record['issuer'] !== issuer) {
    return {
      ok: false,
      cause: 'issuer_mismatch',
      detail: 'discovery issuer does not equal the configured issuer',
    };
  }
  const jwksUri = record['jwks_uri'];
  if (typeof jwksUri !== 'string') {
    return { ok: false, cause: 'invalid', detail: 'discovery jwks_uri is missing or not a string' };
  }
  if (!isAllowedEndpointUrl(jwksUri)) {
    return {
      ok: false,
      cause: 'invalid',
      detail: 'discovery jwks_uri is not an https URL (http only for loopback hosts)',
    };
  }
  return { ok: true, jwksUri };
}
