/**
 * Verifies the JWS signature of a token that passed inspectToken, through jose's `compactVerify` (the
 * verifier of record: docs/adr/0001-jose-verifies-every-signature.md). The alg is pinned to the one
 * the header named and the issuer allows; keys come from the project's key store, so jose never
 * fetches anything. Claims are checked later, by validateClaims.
 */

import { compactVerify, type CryptoKey } from 'jose';
import type { Reason } from '../decision/reason-codes.ts';
import { ASYMMETRIC_ALGORITHM_SET } from '../kernel/limits.ts';
import type { Refusal, Result } from '../kernel/result.ts';
import { reasonForJoseError } from './jose-error-reason.ts';

/** Why the key store could not give a key for this header (a deny, never an exception). */
export type KeyRefusal = Refusal<Reason>;

/**
 * Gives the key for the header jose parsed (`kid` and `alg`), or says why there is none: at once
 * when the key store has it warm, else as a promise.
 */
export type ResolveKey = (
  kid: string,
  alg: string,
) => CryptoKey | KeyRefusal | Promise<CryptoKey | KeyRefusal>;

export type VerifySignatureResult = Result<object, Refusal<Reason> & { step: 'key' | 'signature' }>;

/** Thrown inside jose's key resolver to stop it; carries the refusal out. Never escapes this file. */
class KeyRefused extends Error {
  constructor(readonly refusal: KeyRefusal) {
    super('key refused');
  }
}

const keyOrThrow = (value: CryptoKey | KeyRefusal): CryptoKey => {
  if ('reason' in value) throw new KeyRefused(value);
  return value;
};

const VERIFIED: VerifySignatureResult = Object.freeze({ ok: true });

/** Never throws or rejects: every failure is a value naming the step that failed. */
export function verifySignature(
  token: string,
  alg: string,
  resolveKey: ResolveKey,
): Promise<VerifySignatureResult> {
  // Defence in depth: even a caller bug cannot verify with `none` or an HMAC secret (RFC 8725 §3.1).
  if (!ASYMMETRIC_ALGORITHM_SET.has(alg)) {
    return Promise.resolve({
      ok: false,
      step: 'signature',
      reason: 'alg_not_allowed',
      detail: 'alg is not an asymmetric JWS algorithm',
    });
  }
  if (typeof token !== 'string') {
    return Promise.resolve({
      ok: false,
      step: 'signature',
      reason: 'token_malformed',
      detail: 'not a compact JWS',
    });
  }
  return compactVerify(
    token,
    (protectedHeader) => {
      const { kid } = protectedHeader;
      if (typeof kid !== 'string') {
        throw new KeyRefused({ reason: 'kid_invalid', detail: 'kid is absent or not a string' });
      }
      const key = resolveKey(kid, alg);
      return key instanceof Promise ? key.then(keyOrThrow) : keyOrThrow(key);
    },
    // One key, one alg (RFC 8725 §3.1): jose refuses any other alg before calling the resolver.
    { algorithms: [alg] },
  ).then(
    () => VERIFIED,
    (error: unknown): VerifySignatureResult => {
      if (error instanceof KeyRefused) return { ok: false, step: 'key', ...error.refusal };
      // The jose error itself is dropped here: its message and cause never reach a log.
      return { ok: false, step: 'signature', ...reasonForJoseError(error) };
    },
  );
}
