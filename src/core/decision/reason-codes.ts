/**
 * The closed set of decision reason codes (a public contract, docs/reason-codes.md). Declared
 * once here: the `Reason` type, the AHI output validity, the table in docs/reason-codes.md (checked by a test), the
 * log line, the metrics and the CLI all read this table.
 */

export const REASONS = {
  allowed: { valid: true, summary: 'a rule matched; its role is returned' },
  no_role_mapping: { valid: true, summary: "verified token, but no rule's claims match" },
  operation_not_permitted: {
    valid: true,
    summary: "a rule's issuer and claims match, but not for this operation or datastore",
  },
  malformed_request: { valid: false, summary: 'the event is not the HealthImaging authorizer shape' },
  unknown_datastore: { valid: false, summary: 'the datastore is not in the configured allowlist' },
  unknown_operation: { valid: false, summary: 'not a known HealthImaging operation, and no rule names it' },
  token_missing: { valid: false, summary: 'bearerToken is absent, empty or not a string' },
  token_too_large: { valid: false, summary: 'the token or its header is over the size cap' },
  token_malformed: { valid: false, summary: 'not a strict compact JWS (three canonical base64url segments)' },
  header_invalid: { valid: false, summary: 'the JOSE header is not a JSON object, or has duplicate names' },
  header_forbidden_param: {
    valid: false,
    summary: 'the header carries jku, x5u, jwk, x5c, crit, b64, cty, enc, zip or another forbidden parameter',
  },
  alg_not_allowed: {
    valid: false,
    summary: "alg is outside the issuer's allowlist (none and HS* never allowed)",
  },
  typ_invalid: { valid: false, summary: "the typ header is not the issuer's required token type" },
  kid_missing: { valid: false, summary: 'the header has no kid' },
  kid_invalid: { valid: false, summary: 'kid is not a string of at most 128 printable ASCII characters' },
  kid_unknown: { valid: false, summary: "kid is not in the issuer's JWKS, even after a bounded refresh" },
  jwks_ambiguous_key: { valid: false, summary: "kid matches more than one key in the issuer's JWKS" },
  issuer_invalid: {
    valid: false,
    summary: 'iss is absent or not a configured issuer (decided with no network I/O)',
  },
  tenant_not_allowed: { valid: false, summary: "Entra ID tid is absent or not the issuer's tenantId" },
  signature_invalid: { valid: false, summary: 'the signature does not verify with the selected key' },
  claims_invalid: {
    valid: false,
    summary:
      'the payload is not a JSON object, has duplicate names or too deep nesting, or a claim has the wrong type or is an empty identifier',
  },
  claim_missing: { valid: false, summary: 'a required claim (exp, iat, sub) is absent' },
  audience_invalid: {
    valid: false,
    summary: 'aud is absent, malformed or contains none of the configured audiences',
  },
  client_not_allowed: {
    valid: false,
    summary: 'the client (client_id, else azp, else appid) is absent or not allowed',
  },
  token_type_invalid: {
    valid: false,
    summary:
      'an ID token (typ ID, token_use id, at_hash, c_hash, s_hash or nonce) was used as an access token',
  },
  token_expired: { valid: false, summary: 'exp is not after now (with the clock tolerance)' },
  token_not_yet_valid: { valid: false, summary: 'nbf or iat is in the future (with the clock tolerance)' },
  token_lifetime_exceeded: {
    valid: false,
    summary:
      'iat is older than the window (12 h at most), or exp is not a finite NumericDate up to 2^53 - 1 (fractions allowed, RFC 7519 §2)',
  },
  idp_unavailable: {
    valid: false,
    summary: 'no usable keys: JWKS or discovery unreachable and nothing cached',
  },
  config_unavailable: { valid: false, summary: 'no configuration source is set, or it could not be read' },
  config_invalid: {
    valid: false,
    summary: 'the configuration does not validate (the log names each JSON path)',
  },
  deadline_exceeded: { valid: false, summary: 'the internal time budget ran out' },
  internal_error: { valid: false, summary: 'anything unexpected (caught and logged without token data)' },
} as const satisfies Record<string, { valid: boolean; summary: string }>;

export type Reason = keyof typeof REASONS;

export const REASON_CODES = Object.keys(REASONS) as Reason[];

/** Reasons for which HealthImaging is told the token is valid (403 "Access Denied" unless allowed). */
export function isTokenValidFor(reason: Reason): boolean {
  return REASONS[reason].valid;
}
