/**
 * The only place where errors thrown by jose (or by the crypto beneath it) become reason codes
 * (STYLE.md convention 2). The detail is a fixed error code or a built-in class name, never the
 * message or the error object: jose claim errors carry the whole payload (SECURITY.md finding 3).
 */

import { errors } from 'jose';
import type { Reason } from '../decision/reason-codes.ts';

const REASON_BY_JOSE_CODE: ReadonlyMap<string, Reason> = new Map<string, Reason>([
  [errors.JWSSignatureVerificationFailed.code, 'signature_invalid'],
  [errors.JWSInvalid.code, 'token_malformed'],
  [errors.JOSEAlgNotAllowed.code, 'alg_not_allowed'],
  [errors.JOSENotSupported.code, 'alg_not_allowed'],
]);

/** jose codes are fixed `ERR_*` identifiers; anything else in `code` is not trusted as a detail. */
const JOSE_CODE = /^ERR_[A-Z0-9_]{1,64}$/;

/**
 * Built-in classes named in details as-is (finding 4: short RSA keys throw TypeError, deep JSON
 * RangeError). Other classes are reported as `Error` so no runtime text reaches a log line.
 */
const BUILT_IN_ERRORS = [
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
];

/** Never throws; anything that is not a known jose failure is `internal_error`. */
export function reasonForJoseError(error: unknown): { reason: Reason; detail: string } {
  try {
    if (error instanceof errors.JOSEError) {
      const code = error.code;
      const detail = typeof code === 'string' && JOSE_CODE.test(code) ? code : 'JOSEError';
      return { reason: REASON_BY_JOSE_CODE.get(detail) ?? 'internal_error', detail };
    }
    const builtIn = BUILT_IN_ERRORS.find((type) => error instanceof type);
    if (builtIn !== undefined) return { reason: 'internal_error', detail: builtIn.name };
    return { reason: 'internal_error', detail: error instanceof Error ? 'Error' : 'non-error value thrown' };
  } catch {
    // A hostile object (e.g. a Proxy whose getters throw) still yields a deny.
    return { reason: 'internal_error', detail: 'unreadable error' };
  }
}
