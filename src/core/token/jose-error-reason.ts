/**
 * The one place a jose error becomes a reason code. The table covers every `JOSEErrorCode` (the
 * compiler checks), so a new jose code cannot slip through unmapped. The detail is fixed text: jose's
 * messages and error objects (its claim errors carry the whole payload) are never passed on.
 */

import { errors } from 'jose';
import type { Reason } from '../decision/reason-codes.ts';

interface Mapped {
  reason: Reason;
  detail: string;
}

/**
 * Most of these cannot happen behind inspectToken's strict grammar and header checks, the pinned
 * alg and our own key store; they are mapped anyway so that a regression still denies precisely.
 */
const BY_CODE: Readonly<Record<errors.JOSEErrorCode, Mapped>> = {
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: {
    reason: 'signature_invalid',
    detail: 'the signature does not verify with the selected key',
  },
  ERR_JOSE_ALG_NOT_ALLOWED: { reason: 'alg_not_allowed', detail: 'alg is not the one allowed for this key' },
  ERR_JOSE_NOT_SUPPORTED: { reason: 'alg_not_allowed', detail: 'alg is not a supported JWS algorithm' },
  ERR_JWS_INVALID: { reason: 'token_malformed', detail: 'not a valid compact JWS' },
  ERR_JWE_INVALID: { reason: 'token_malformed', detail: 'an encrypted token (JWE) is never accepted' },
  ERR_JWE_DECRYPTION_FAILED: {
    reason: 'token_malformed',
    detail: 'an encrypted token (JWE) is never accepted',
  },
  ERR_JWT_INVALID: { reason: 'claims_invalid', detail: 'the payload is not a JWT claims set' },
  ERR_JWT_CLAIM_VALIDATION_FAILED: { reason: 'claims_invalid', detail: 'a claim failed validation' },
  ERR_JWT_EXPIRED: { reason: 'token_expired', detail: 'exp is in the past' },
  ERR_JWK_INVALID: { reason: 'kid_unknown', detail: 'the key with this kid could not be used' },
  ERR_JWKS_INVALID: { reason: 'idp_unavailable', detail: 'the key set is not a valid JWKS' },
  ERR_JWKS_NO_MATCHING_KEY: { reason: 'kid_unknown', detail: 'no key with this kid' },
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: {
    reason: 'jwks_ambiguous_key',
    detail: 'two or more keys share this kid',
  },
  ERR_JWKS_TIMEOUT: { reason: 'idp_unavailable', detail: 'the key set could not be fetched in time' },
  ERR_JOSE_GENERIC: { reason: 'internal_error', detail: 'unexpected verification error (details withheld)' },
};

/**
 * Anything else jose or WebCrypto throws (a TypeError for a key that cannot serve the alg, a
 * RangeError) is a bug on our side, never a pass.
 */
const UNEXPECTED: Mapped = BY_CODE.ERR_JOSE_GENERIC;

export function reasonForJoseError(error: unknown): Mapped {
  if (!(error instanceof errors.JOSEError)) return UNEXPECTED;
  const code = error.code;
  return Object.hasOwn(BY_CODE, code) ? BY_CODE[code as errors.JOSEErrorCode] : UNEXPECTED;
}
