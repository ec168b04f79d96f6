/**
 * The limits more than one stage enforces, declared once: the config schema, the token checks, the
 * key parser and the Lambda settings all read them here, so a cap cannot differ between the stage
 * that accepts a value and the stage that relies on it. Limits one stage alone uses stay in it.
 */

/**
 * HealthImaging refuses tokens issued more than 12 h ago: the configurable iat window never exceeds
 * it, nor does the age up to which stale keys may be served.
 */
export const MAX_TOKEN_AGE_SECONDS = 43_200;

/**
 * Asymmetric JWS algorithms only (RFC 8725 §3.1): `none` and HS* can never be configured, pass the
 * token gate, reach the verifier or come out of a JWKS, so no alg confusion.
 */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type Algorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];
/** The same algorithms for a membership test on any string (a header's or a JWK's alg). */
export const ASYMMETRIC_ALGORITHM_SET: ReadonlySet<string> = new Set(ASYMMETRIC_ALGORITHMS);

/**
 * Cap on a whole bearer token (characters), checked before any split or decode; tokens over it are
 * never parsed, nor hashed for the verified-token cache.
 */
export const MAX_TOKEN_LENGTH = 16384;

/** A kid is 1 to this many printable ASCII characters, in a token header and in a JWKS alike. */
export const MAX_KID_LENGTH = 128;

/** The kid shape rule itself: 1 to MAX_KID_LENGTH characters, each printable ASCII (0x20-0x7e). */
export function isKidShape(kid: string): boolean {
  if (kid.length === 0 || kid.length > MAX_KID_LENGTH) return false;
  for (let i = 0; i < kid.length; i += 1) {
    const c = kid.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}
