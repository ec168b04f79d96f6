/**
 * Claim validation for an access token whose signature verified: claim types, required claims, time
 * window, ID-token rejection, tenant, audience and client. Our own code rather than jose's `jwtVerify`
 * options: jose accepts `exp: 1e400` and a missing `exp`, and its claim errors embed the payload
 * (docs/adr/0001-jose-verifies-every-signature.md). Row numbers are cases of
 * test/security/catalogue.test.ts.
 */

import type { IssuerConfig } from '../config/schema.ts';
import type { Reason } from '../decision/reason-codes.ts';
import type { VerifiedFacts } from '../decision/decision.ts';
import type { Err, Refusal, Result } from '../kernel/result.ts';
import { asciiLowerCase } from './ascii-lower-case.ts';
import { jsonTypeName } from './json-type-name.ts';

/** The verified facts later stages (policy, audit log) may use: the Decision's vocabulary plus nbf. */
export type TokenFacts = VerifiedFacts & { nbf?: number };

export interface ValidateClaimsOptions {
  /** The injected clock (never the system clock), epoch milliseconds. */
  nowMs: number;
  /** The iat window; the config schema caps it at 43 200 s (HealthImaging's 12 h). */
  maxTokenAgeSeconds: number;
}

export type ValidateClaimsResult = Result<{ facts: TokenFacts }, Refusal<Reason>>;

const STRING_CLAIMS = ['sub', 'jti', 'client_id', 'azp', 'appid'] as const;
/** Identity and binding claims: present means non-empty (jti only identifies the token in the log). */
const NON_EMPTY_CLAIMS: ReadonlySet<string> = new Set(['sub', 'client_id', 'azp', 'appid']);
const NUMBER_CLAIMS = ['exp', 'iat', 'nbf'] as const;
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub'] as const;

/** RFC 9068 client_id, then OIDC azp, then Entra ID v1 appid. */
const CLIENT_CLAIMS = ['client_id', 'azp', 'appid'] as const;

/**
 * Every top-level claim validateClaims (and idTokenMarker) reads. The verified-token cache keeps
 * these, and the claims the rules use, of a token (prune-claims.ts); a test proves the list complete
 * by recording every property the validation touches.
 */
export const VALIDATED_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'client_id',
  'azp',
  'appid',
  'tid',
  'typ',
  'token_use',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
] as const;

/** Bounds the any-of audience match; more than this is not a normal access token (row 59). */
const MAX_AUDIENCES = 16;

/** Never throws. */
export function validateClaims(
  payload: Record<string, unknown>,
  issuer: IssuerConfig,
  options: ValidateClaimsOptions,
): ValidateClaimsResult {
  try {
    return validate(payload, issuer, options);
  } catch {
    // Not reachable with a JSON-parsed payload and a parsed config; fail closed all the same.
    return fail('internal_error', 'unexpected error while validating claims');
  }
}

function validate(
  payload: Record<string, unknown>,
  issuer: IssuerConfig,
  options: ValidateClaimsOptions,
): ValidateClaimsResult {
  // Own properties only: a `__proto__` claim or a polluted prototype must not supply a claim (row 45).
  const own = (name: string): unknown => (Object.hasOwn(payload, name) ? payload[name] : undefined);

  // 1. Types first: a wrong type is never treated as "absent" (CVE-2026-25537; rows 47, 50).
  const iss = own('iss');
  if (typeof iss !== 'string') return fail('claims_invalid', `iss is ${jsonTypeName(iss)}, not a string`);
  if (iss === '') return fail('claims_invalid', 'iss is an empty string');
  for (const name of STRING_CLAIMS) {
    if (!Object.hasOwn(payload, name)) continue;
    const value = payload[name];
    if (typeof value !== 'string') {
      return fail('claims_invalid', `${name} is ${jsonTypeName(value)}, not a string`);
    }
    // An empty identifier names nobody (and could match a rule value ""). Only "" is refused:
    // values compare exactly, so whitespace is kept as it is.
    if (value === '' && NON_EMPTY_CLAIMS.has(name)) {
      return fail('claims_invalid', `${name} is an empty string`);
    }
  }
  for (const name of NUMBER_CLAIMS) {
    if (Object.hasOwn(payload, name) && typeof payload[name] !== 'number') {
      return fail('claims_invalid', `${name} is ${jsonTypeName(payload[name])}, not a number`);
    }
  }
  // The caller selected `issuer` by this iss; re-checking byte for byte keeps the binding even if a
  // caller passes the wrong config (RFC 8725 §3.8, row 56).
  if (iss !== issuer.issuer) return fail('issuer_invalid', 'iss is not the issuer being validated');

  // 2. Required claims (RFC 9068 §2.2; row 46).
  for (const name of REQUIRED_CLAIMS) {
    if (!Object.hasOwn(payload, name)) return fail('claim_missing', `${name} is absent`);
  }
  const exp = payload['exp'] as number;
  const iat = payload['iat'] as number;
  const sub = payload['sub'] as string;
  const nbf = own('nbf') as number | undefined;
  const { nowMs, maxTokenAgeSeconds } = options;
  const tol = issuer.clockToleranceSeconds;

  // iat and nbf: present but not finite (JSON `1e400`) is a wrong value: claims_invalid.
  if (!Number.isFinite(iat)) return fail('claims_invalid', 'iat is not a finite number');
  if (nbf !== undefined && !Number.isFinite(nbf)) return fail('claims_invalid', 'nbf is not a finite number');

  // 3. exp: JSON `1e400` parses to Infinity, and jose accepts it. A NumericDate may be
  // non-integer (RFC 7519 §2, https://www.rfc-editor.org/rfc/rfc7519#section-2), so fractions pass;
  // above 2^53 - 1 (some 285 million years away) no IdP means a real expiry: refused.
  if (!Number.isFinite(exp) || exp > Number.MAX_SAFE_INTEGER) {
    return fail('token_lifetime_exceeded', 'exp is not a finite number up to 2^53 - 1');
  }
  // RFC 7519 §4.1.4: the token must not be accepted on or after exp (row 49).
  if (nowMs >= (exp + tol) * 1000) return fail('token_expired', `exp is not after now (tolerance ${tol} s)`);

  // 4. nbf (RFC 7519 §4.1.5).
  if (nbf !== undefined && nowMs < (nbf - tol) * 1000) {
    return fail('token_not_yet_valid', `nbf is in the future (tolerance ${tol} s)`);
  }

  // 5. iat: HealthImaging refuses tokens issued in the future or more than 12 h ago (rows 51, 52).
  if (iat * 1000 > nowMs + tol * 1000) {
    return fail('token_not_yet_valid', `iat is in the future (tolerance ${tol} s)`);
  }
  if (iat * 1000 < nowMs - (maxTokenAgeSeconds + tol) * 1000) {
    return fail('token_lifetime_exceeded', `iat is older than ${maxTokenAgeSeconds} s (tolerance ${tol} s)`);
  }

  // 6. An ID token is not an access token (RFC 8725 §2.8, §3.12), unless the issuer opts in.
  if (issuer.acceptIdTokens !== true) {
    const marker = idTokenMarker(payload);
    if (marker !== undefined) return fail('token_type_invalid', marker);
  }

  // 7. Entra ID multi-tenant keys are shared, so the tenant must be pinned (row 57). GUIDs are
  // case-insensitive; ASCII folding only.
  const tid = own('tid');
  if (issuer.tenantId !== undefined) {
    if (typeof tid !== 'string' || asciiLowerCase(tid) !== asciiLowerCase(issuer.tenantId)) {
      return fail('tenant_not_allowed', "tid is absent or not the issuer's tenantId");
    }
  }

  // 8. Audience (RFC 7519 §4.1.3, any-of; rows 58-61).
  if (issuer.audience !== undefined) {
    const problem = audienceProblem(own('aud'), issuer.audience);
    if (problem !== undefined) return fail('audience_invalid', problem);
  }

  // 9. Client allowlist (RFC 9068 §2.2; row 62).
  const client = CLIENT_CLAIMS.find((name) => Object.hasOwn(payload, name));
  const clientId = client === undefined ? undefined : (payload[client] as string);
  if (issuer.clientIds !== undefined) {
    if (clientId === undefined) return fail('client_not_allowed', 'no client_id, azp or appid claim');
    if (!issuer.clientIds.includes(clientId)) {
      return fail('client_not_allowed', `${client} is not one of the issuer's clientIds`);
    }
  }

  const facts: TokenFacts = { iss, sub, iat, exp };
  if (nbf !== undefined) facts.nbf = nbf;
  if (clientId !== undefined) facts.clientId = clientId;
  if (typeof tid === 'string') facts.tid = tid;
  const jti = own('jti');
  if (typeof jti === 'string') facts.jti = jti;
  return { ok: true, facts };
}

/** Keycloak's payload `typ` of an access token, folded: "Bearer" (lower case with a client option) or "DPoP". */
const KEYCLOAK_ACCESS_TYPES: ReadonlySet<string> = new Set(['bearer', 'dpop']);
/** OpenID Connect hashes that only an ID token carries. */
const ID_TOKEN_HASHES = ['at_hash', 'c_hash', 's_hash'] as const;

/**
 * The fixed decision detail naming what makes `payload` an ID token, or undefined. An ID token is
 * meant for the client, not for an API (OpenID Connect Core §2,
 * https://openid.net/specs/openid-connect-core-1_0.html#IDToken; RFC 9068 §2.1). Each marker was
 * checked against the documented access tokens of Entra ID (v1 and v2, user and app), Keycloak,
 * Okta, Auth0 and Cognito (test/support/fixtures/idp/tokens.ts): none carries one, except a Keycloak nonce,
 * handled below. Shared with `explain` (src/tools/cli/explain/describe-claims.ts). Never returns a claim value.
 */
export function idTokenMarker(payload: Readonly<Record<string, unknown>>): string | undefined {
  const own = (name: string): unknown => (Object.hasOwn(payload, name) ? payload[name] : undefined);
  const typ = own('typ');
  const typLower = typeof typ === 'string' ? asciiLowerCase(typ) : undefined;

  // Keycloak writes the token type into the payload: "ID" on ID tokens, "Bearer" (or "bearer") or
  // "DPoP" on access tokens. TokenUtil, TokenManager.generateIDToken and DPoPUtil:
  // https://github.com/keycloak/keycloak/blob/main/core/src/main/java/org/keycloak/util/TokenUtil.java
  // https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/protocol/oidc/TokenManager.java
  // https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/services/util/DPoPUtil.java
  // Its standard token exchange with requested_token_type id_token returns an ID token in the
  // `access_token` field, with neither nonce nor at_hash: typ is then the only marker
  // (https://www.keycloak.org/securing-apps/token-exchange).
  if (typLower === 'id') return 'ID token: typ is ID';

  // Cognito: token_use "id" or "access" (aws-jwt-verify's tokenUse option checks the same claim),
  // https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html
  if (own('token_use') === 'id') return 'ID token: token_use is id';

  // Hashes binding an ID token to what was issued with it: at_hash and c_hash
  // (OpenID Connect Core §3.1.3.6, §3.3.2.11), s_hash (FAPI 1.0 Advanced §5.1,
  // https://openid.net/specs/openid-financial-api-part-2-1_0.html#id-token-as-detached-signature).
  // Entra puts them in ID tokens only
  // (https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference), and so
  // does Keycloak (TokenManager's response builder).
  for (const name of ID_TOKEN_HASHES) {
    if (Object.hasOwn(payload, name)) return `ID token: ${name} is present`;
  }

  // nonce goes into ID tokens (OpenID Connect Core §2). Entra, Okta, Auth0 and Cognito access tokens
  // carry none in the payload (Entra's Graph tokens have one in the JOSE header, never read here:
  // https://github.com/AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet/issues/609).
  // Keycloak before 25, and since then with the "Nonce backwards compatible" mapper, copies it into
  // access tokens, so a nonce is no marker in a token whose typ says it is a Keycloak access token:
  // https://github.com/keycloak/keycloak/blob/main/docs/documentation/upgrading/topics/changes/changes-25_0_0.adoc
  const keycloakAccessToken = typLower !== undefined && KEYCLOAK_ACCESS_TYPES.has(typLower);
  if (Object.hasOwn(payload, 'nonce') && !keycloakAccessToken) {
    return 'ID token: nonce is present';
  }
  return undefined;
}

/**
 * aud must be a non-empty string or 1..16 non-empty strings, every element a string (jwt-go aud type
 * confusion, CVE-2020-26160), with at least one exact, case-sensitive match.
 */
function audienceProblem(aud: unknown, configured: string | readonly string[]): string | undefined {
  const accepted: readonly string[] = typeof configured === 'string' ? [configured] : configured;
  let audiences: readonly unknown[];
  if (aud === '') return 'aud is an empty string';
  if (typeof aud === 'string') audiences = [aud];
  else if (Array.isArray(aud)) audiences = aud;
  else return `aud is ${jsonTypeName(aud)}, not a string or an array`;
  if (audiences.length === 0) return 'aud is an empty array';
  if (audiences.length > MAX_AUDIENCES) return `aud has ${audiences.length} elements, over ${MAX_AUDIENCES}`;
  if (!audiences.every((value) => typeof value === 'string' && value.length > 0)) {
    return 'aud has an element that is not a non-empty string';
  }
  if (!audiences.some((value) => accepted.includes(value as string))) {
    return 'aud contains none of the configured audiences';
  }
  return undefined;
}

function fail(reason: Reason, detail: string): Err<Refusal<Reason>> {
  return { ok: false, reason, detail };
}
