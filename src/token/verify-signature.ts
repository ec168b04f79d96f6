/**
 * Verifies the JWS signature of a token that already passed inspectToken, with the one key and the
 * one algorithm selected for it (RFC 8725 §3.1: one key, one alg). Only the signature: claims are
 * validated by validateClaims.
 *
 * Why node:crypto and not jose's compactVerify: jose 6 verifies through WebCrypto, whose every call
 * is a round trip to libuv's thread pool. Measured on the same token in one process (`npm run bench`),
 * that round trip costs about three times the RSA verification itself (jose alone ≈ 3-5× the
 * `node:crypto.verify` floor), which is most of a first-seen decision, and WebCrypto's first use
 * adds ~5 ms to a cold start. `crypto.verify` is the same OpenSSL primitive, called synchronously.
 * What jose did for us here is small and is spelled out below, per RFC 7518 §3: the digest, RSA
 * PKCS#1 v1.5 or PSS with MGF1 of the same hash and a salt as long as the hash (§3.5), ECDSA in the
 * JOSE R||S form of the curve the alg names (§3.4), Ed25519 (RFC 8037). jose stays the oracle:
 * test/token/verify-signature.test.ts checks every outcome against jose's compactVerify, and the
 * Wycheproof suites run through this function.
 */

import { constants, type KeyObject, type VerifyKeyObjectInput, verify } from 'node:crypto';
import type { Algorithm } from '../config/schema.ts';
import type { Reason } from '../decision/reason-codes.ts';

export type VerifySignatureResult = { ok: true } | { ok: false; reason: Reason; detail: string };

interface AlgorithmParameters {
  /** The digest (null for Ed25519, which hashes internally). */
  digest: 'sha256' | 'sha384' | 'sha512' | null;
  keyType: 'rsa' | 'ec' | 'ed25519';
  /** OpenSSL's name of the only curve this alg allows (ES256 is P-256, and so on). */
  namedCurve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** The key with its verify options, when the defaults do not fit the alg (PSS, ECDSA). */
  options?: (key: KeyObject) => VerifyKeyObjectInput;
}

/** PKCS#1 v1.5 is node:crypto's default padding for an 'rsa' key: the key is passed as is (the floor's call). */
const rsa = (digest: 'sha256' | 'sha384' | 'sha512'): AlgorithmParameters => ({ digest, keyType: 'rsa' });
/** RSASSA-PSS with MGF1 of the same hash and a salt as long as the hash (RFC 7518 §3.5). */
const pss = (digest: 'sha256' | 'sha384' | 'sha512', saltLength: number): AlgorithmParameters => ({
  digest,
  keyType: 'rsa',
  options: (key) => ({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }),
});
const ecdsa = (
  digest: 'sha256' | 'sha384' | 'sha512',
  namedCurve: 'prime256v1' | 'secp384r1' | 'secp521r1',
): AlgorithmParameters => ({
  digest,
  keyType: 'ec',
  namedCurve,
  // JOSE ECDSA signatures are R||S of fixed width, not DER (RFC 7518 §3.4).
  options: (key) => ({ key, dsaEncoding: 'ieee-p1363' }),
});

/** Every asymmetric alg the configuration allows, and nothing else (`none` and HS* have no entry). */
const PARAMETERS: ReadonlyMap<string, AlgorithmParameters> = new Map<Algorithm, AlgorithmParameters>([
  ['RS256', rsa('sha256')],
  ['RS384', rsa('sha384')],
  ['RS512', rsa('sha512')],
  ['PS256', pss('sha256', 32)],
  ['PS384', pss('sha384', 48)],
  ['PS512', pss('sha512', 64)],
  ['ES256', ecdsa('sha256', 'prime256v1')],
  ['ES384', ecdsa('sha384', 'secp384r1')],
  ['ES512', ecdsa('sha512', 'secp521r1')],
  ['EdDSA', { digest: null, keyType: 'ed25519' }],
  ['Ed25519', { digest: null, keyType: 'ed25519' }],
]);

const INVALID: VerifySignatureResult = {
  ok: false,
  reason: 'signature_invalid',
  detail: 'the signature does not verify with the selected key',
};

/** Never throws: every failure is a value. Synchronous (no thread-pool round trip). */
export function verifySignature(token: string, key: KeyObject, alg: string): VerifySignatureResult {
  // Defence in depth: even a caller bug cannot verify with none or an HMAC secret (rows 19-21).
  const parameters = PARAMETERS.get(alg);
  if (parameters === undefined) {
    return { ok: false, reason: 'alg_not_allowed', detail: 'alg is not an asymmetric JWS algorithm' };
  }
  if (typeof token !== 'string') return { ok: false, reason: 'token_malformed', detail: 'not a compact JWS' };
  try {
    // The key must be a public key of the family (and curve) the alg names: an RSA key never
    // verifies an ES256 token, a P-384 key never an ES256 one (RFC 8725 §3.1); and RSA keys are
    // 2048 bits or more (RFC 7518 §3.3; parse-jwks drops smaller ones before they get here).
    const details = key.type === 'public' ? key.asymmetricKeyDetails : undefined;
    if (
      details === undefined ||
      key.asymmetricKeyType !== parameters.keyType ||
      (parameters.namedCurve !== undefined && details.namedCurve !== parameters.namedCurve) ||
      (parameters.keyType === 'rsa' && !((details.modulusLength ?? 0) >= 2048))
    ) {
      return { ok: false, reason: 'internal_error', detail: 'the selected key does not fit the alg' };
    }
    const lastDot = token.lastIndexOf('.');
    const firstDot = token.indexOf('.');
    if (firstDot <= 0 || lastDot === firstDot) {
      return { ok: false, reason: 'token_malformed', detail: 'not a compact JWS' };
    }
    // The signing input is the ASCII of header.payload exactly as received (RFC 7515 §5.2).
    const signingInput = Buffer.from(token.slice(0, lastDot), 'latin1');
    const signature = Buffer.from(token.slice(lastDot + 1), 'base64url');
    const verified = verify(parameters.digest, signingInput, parameters.options?.(key) ?? key, signature);
    return verified ? { ok: true } : INVALID;
  } catch {
    // OpenSSL rejects some malformed signatures (e.g. a wrong R||S length) by throwing: still a bad signature.
    return INVALID;
  }
}
