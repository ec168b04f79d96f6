/**
 * The header checks that depend on which issuer the token claims to come from: the issuer's own
 * algorithm allowlist (RFC 8725 §3.1) and, when configured, its required `typ` (RFC 9068 §4; row 39
 * of test/security/catalogue.test.ts). Runs after inspectToken and issuer pre-selection, before any
 * key lookup.
 */

import type { IssuerConfig } from '../config/schema.ts';
import { ASYMMETRIC_ALGORITHM_SET } from '../kernel/limits.ts';
import type { Refusal, Result } from '../kernel/result.ts';
import { asciiLowerCase } from './ascii-lower-case.ts';
import { jsonTypeName } from './json-type-name.ts';
import type { JoseHeaderFacts } from './inspect-token.ts';

export type HeaderCheckResult = Result<object, Refusal<'alg_not_allowed' | 'typ_invalid'>>;

/** Never throws: an unreadable header or config fails closed as alg_not_allowed. */
export function checkHeaderForIssuer(header: JoseHeaderFacts, issuer: IssuerConfig): HeaderCheckResult {
  try {
    return check(header, issuer);
  } catch {
    return {
      ok: false,
      reason: 'alg_not_allowed',
      detail: 'the header or issuer configuration is unreadable',
    };
  }
}

function check(header: JoseHeaderFacts, issuer: IssuerConfig): HeaderCheckResult {
  // Exact names: 'EdDSA' and 'Ed25519' are distinct JWS algorithms, and no case folding is applied.
  // The asymmetric guard repeats the schema's rule so a hand-built config can never admit HS* or none.
  const allowed: readonly string[] = issuer.algorithms;
  if (!ASYMMETRIC_ALGORITHM_SET.has(header.alg) || !allowed.includes(header.alg)) {
    return {
      ok: false,
      reason: 'alg_not_allowed',
      // The alg passed inspection, so it is one of the known algorithm names, not arbitrary token bytes.
      detail: `alg ${header.alg} is not in this issuer's algorithms (${allowed.join(', ')})`,
    };
  }
  if (issuer.tokenType !== undefined) {
    // The quoted tokenType is built only for a refusal (details), not for every accepted typ.
    if (!Object.hasOwn(header, 'typ') || header.typ === undefined) {
      return {
        ok: false,
        reason: 'typ_invalid',
        detail: `the header has no typ; the issuer's tokenType requires ${JSON.stringify(issuer.tokenType)}`,
      };
    }
    if (typeof header.typ !== 'string') {
      return {
        ok: false,
        reason: 'typ_invalid',
        detail: `typ is ${jsonTypeName(header.typ)}, not a string; the issuer's tokenType requires ${JSON.stringify(issuer.tokenType)}`,
      };
    }
    if (normalizeMediaType(header.typ) !== normalizeMediaType(issuer.tokenType)) {
      return {
        ok: false,
        reason: 'typ_invalid',
        detail: `typ is not the issuer's tokenType ${JSON.stringify(issuer.tokenType)} (compared without case and "application/")`,
      };
    }
  }
  return { ok: true };
}

/**
 * Media types compare case-insensitively and `typ` may omit `application/` (RFC 7515 §4.1.9,
 * RFC 8725 §3.11).
 */
function normalizeMediaType(value: string): string {
  const lower = asciiLowerCase(value);
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}
