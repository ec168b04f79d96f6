/**
 * Hostile tokens for the security suite: signatures over arbitrary segment bytes, signature
 * substitution, the ECDSA high-s twin, an e=1 RSA forgery and non-canonical base64url. Each is
 * registered in `mintedTokens`, so log-hygiene checks can prove no segment was logged. Rows are those
 * of test/security/catalogue.test.ts.
 */

import { createHash, createHmac, sign as nodeSign } from 'node:crypto';
import { b64url, type TestKey } from './keys.ts';

/** Every token this module built (for the log-hygiene checks). */
export const mintedTokens: string[] = [];

/** Records a token built elsewhere (e.g. by signToken) so the hygiene checks know about it. */
export function minted(token: string): string {
  mintedTokens.push(token);
  return token;
}

type Bytes = string | Uint8Array;

const toBytes = (value: Bytes): Buffer =>
  typeof value === 'string' ? Buffer.from(value) : Buffer.from(value);

/** The raw JWS signature of `input` with the key's own algorithm (P1363 for ECDSA, as JWS requires). */
export function signInput(key: TestKey, input: string, alg: string = key.alg): Buffer {
  const data = Buffer.from(input);
  if (alg === 'EdDSA' || alg === 'Ed25519') return nodeSign(null, data, key.privateKey);
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('ES')) return nodeSign(hash, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  if (alg.startsWith('PS')) {
    return nodeSign(hash, data, { key: key.privateKey, padding: 6, saltLength: Number(alg.slice(2)) / 8 });
  }
  return nodeSign(hash, data, key.privateKey);
}

/** A token whose header and payload segments encode exactly these bytes, validly signed over them. */
export function signBytes(key: TestKey, header: Bytes, payload: Bytes, alg: string = key.alg): string {
  const input = `${b64url(toBytes(header))}.${b64url(toBytes(payload))}`;
  return minted(`${input}.${signInput(key, input, alg).toString('base64url')}`);
}

/** A token whose segments are given as they appear on the wire (e.g. an unencoded `b64:false` payload). */
export function signSegments(key: TestKey, headerSegment: string, payloadSegment: string): string {
  const input = `${headerSegment}.${payloadSegment}`;
  return minted(`${input}.${signInput(key, input).toString('base64url')}`);
}

/** The same signing input with other signature bytes. */
export function withSignature(token: string, signature: Uint8Array): string {
  const [header = '', payload = ''] = token.split('.');
  return minted(`${header}.${payload}.${b64url(signature)}`);
}

export function signatureOf(token: string): Buffer {
  return Buffer.from(token.split('.')[2] ?? '', 'base64url');
}

/** HS256 over the token's signing input with `secret` as the HMAC key (key-confusion, blank secret). */
export function hmacToken(header: Record<string, unknown>, payload: Record<string, unknown>, secret: Bytes) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const mac = createHmac('sha256', toBytes(secret)).update(input).digest();
  return minted(`${input}.${mac.toString('base64url')}`);
}

/** The order n of the P-256 group (SEC 2, FIPS 186-4 D.1.2.3). */
export const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

const bigintToBytes = (value: bigint, length: number): Buffer =>
  Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');

/** The malleable twin (r, n − s) of an ES256 token: a different byte string, equally valid (row 25). */
export function highSTwin(token: string): string {
  const signature = signatureOf(token);
  const r = signature.subarray(0, 32);
  const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
  return withSignature(token, Buffer.concat([r, bigintToBytes(P256_ORDER - s, 32)]));
}

/** An ES256 P1363 signature with the given r and s (e.g. the r=s=0 "psychic signature", row 23). */
export function p1363(r: bigint, s: bigint): Buffer {
  return Buffer.concat([bigintToBytes(r, 32), bigintToBytes(s, 32)]);
}

/** DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * With e = 1 an RSA "signature" is its own verification: s^1 mod n = EM. So the EMSA-PKCS1-v1_5
 * encoding of the hash verifies for anyone, no private key needed (why such keys are refused, row 26).
 */
export function forgeForExponentOne(headerSegment: string, payloadSegment: string, modulusBytes: number) {
  const input = `${headerSegment}.${payloadSegment}`;
  const t = Buffer.concat([SHA256_DIGEST_INFO, createHash('sha256').update(input).digest()]);
  const padding = Buffer.alloc(modulusBytes - t.length - 3, 0xff);
  const em = Buffer.concat([Buffer.from([0x00, 0x01]), padding, Buffer.from([0x00]), t]);
  return minted(`${input}.${em.toString('base64url')}`);
}

/** The same bytes spelled with a different last character (unused low bits set, row 8). */
export function nonCanonicalTwin(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const bytes = Buffer.from(segment, 'base64url');
  for (const ch of alphabet) {
    const candidate = segment.slice(0, -1) + ch;
    if (candidate !== segment && Buffer.from(candidate, 'base64url').equals(bytes)) return candidate;
  }
  throw new Error('this segment length has no non-canonical spelling');
}

/** Replaces segment `index` (0 header, 1 payload, 2 signature) with `value`. */
export function replaceSegment(token: string, index: number, value: string): string {
  const segments = token.split('.');
  segments[index] = value;
  return segments.join('.');
}
