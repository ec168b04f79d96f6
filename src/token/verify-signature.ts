/**
 * Verifies the JWS signature of a token that already passed inspectToken, with the one key and the
 * one algorithm selected for it (RFC 8725 §3.1: one key, one alg). Only the signature: claims are
 * validated by validateClaims, so jose never sees claim options whose errors embed the payload.
 */

import type { KeyObject } from 'node:crypto';
import { type CryptoKey, compactVerify } from 'jose';
import { ASYMMETRIC_ALGORITHMS } from '../config/schema.ts';
import type { Reason } from '../decision/reason-codes.ts';
import { reasonForJoseError } from './jose-errors.ts';

export type VerifySignatureResult = { ok: true } | { ok: false; reason: Reason; detail: string };

const ASYMMETRIC: ReadonlySet<string> = new Set(ASYMMETRIC_ALGORITHMS);

/** Never throws (nor rejects): every failure is a value, translated by reasonForJoseError. */
export async function verifySignature(
  token: string,
  key: CryptoKey | Uint8Array | KeyObject,
  alg: string,
): Promise<VerifySignatureResult> {
  // Defence in depth: even a caller bug cannot verify with none or an HMAC secret (rows 19-21).
  if (!ASYMMETRIC.has(alg)) {
    return { ok: false, reason: 'alg_not_allowed', detail: 'alg is not an asymmetric JWS algorithm' };
  }
  try {
    // `algorithms` pins the header alg to the one selected for this key (jose JOSEAlgNotAllowed).
    await compactVerify(token, key, { algorithms: [alg] });
    return { ok: true };
  } catch (error) {
    return { ok: false, ...reasonForJoseError(error) };
  }
}
