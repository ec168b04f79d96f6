/**
 * Test key material and token minting: keys are generated at test time (never committed) and tokens
 * are signed with jose, so every test exercises real signatures. `signRaw` allows any header bytes,
 * including ones jose itself would refuse to produce.
 */

import { createSign, generateKeyPairSync, type KeyObject, sign as nodeSign } from 'node:crypto';
import { CompactSign, type CryptoKey, exportJWK, importJWK, type JWK } from 'jose';

export type TestAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';

export interface TestKey {
  kid: string;
  alg: TestAlg;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as the key store hands it to jose (imported by jose for `alg`). */
  verifyKey: CryptoKey;
  /** The public JWK as an IdP would publish it (kid, alg, use:sig). */
  jwk: JWK;
}

export async function makeKey(
  alg: TestAlg = 'RS256',
  kid = `test-${alg.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}`,
  modulusLength = 2048,
): Promise<TestKey> {
  const pair =
    alg.startsWith('RS') || alg.startsWith('PS')
      ? generateKeyPairSync('rsa', { modulusLength })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : alg === 'ES384'
          ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
          : generateKeyPairSync('ed25519');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  const verifyKey = (await importJWK(jwk, alg)) as CryptoKey;
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, verifyKey, jwk };
}

export function jwksOf(...keys: TestKey[]): { keys: JWK[] } {
  return { keys: keys.map((k) => k.jwk) };
}

/** Signs a JWT with a normal header ({alg, kid, typ?} plus extras). */
export async function signToken(
  key: TestKey,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const protectedHeader = { alg: key.alg, kid: key.kid, ...header };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(protectedHeader)
    .sign(key.privateKey);
}

export const b64url = (input: string | Uint8Array): string => Buffer.from(input).toString('base64url');

/**
 * Signs arbitrary header and payload *text* (duplicate keys, odd encodings) with the key, producing a
 * token whose signature is valid over exactly those bytes.
 */
export function signRaw(key: TestKey, headerJson: string, payloadJson: string): string {
  const signingInput = `${b64url(headerJson)}.${b64url(payloadJson)}`;
  let signature: Buffer;
  if (key.alg === 'EdDSA') signature = nodeSign(null, Buffer.from(signingInput), key.privateKey);
  else if (key.alg.startsWith('ES'))
    signature = nodeSign(`sha${key.alg.slice(2)}`, Buffer.from(signingInput), {
      key: key.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
  else {
    const signer = createSign(`RSA-SHA${key.alg.slice(2)}`);
    signer.update(signingInput);
    signature = key.alg.startsWith('PS')
      ? signer.sign({ key: key.privateKey, padding: 6, saltLength: 32 })
      : signer.sign(key.privateKey);
  }
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Epoch seconds for `offsetSeconds` from `nowMs`. */
export const epoch = (nowMs: number, offsetSeconds = 0): number => Math.floor(nowMs / 1000) + offsetSeconds;
