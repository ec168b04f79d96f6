/**
 * Turns an untrusted JWKS document (RFC 7517) into the verification keys we are willing to use.
 * Unusable keys are dropped at load, never at verify time (row 26 of test/security/catalogue.test.ts);
 * a broken document, or one with no usable key, is a failure so the caller keeps its last good keys.
 */

import { ASYMMETRIC_ALGORITHM_SET, isKidShape, MAX_KID_LENGTH } from '../kernel/limits.ts';
import type { Result } from '../kernel/result.ts';

export interface JwksKey {
  kid: string;
  kty: 'RSA' | 'EC' | 'OKP';
  alg?: string;
  crv?: string;
  /** Public members only (kty, n, e, crv, x, y, kid, alg); ready for jose's `importJWK`. */
  jwk: Record<string, unknown>;
}

export interface DroppedKey {
  /** Only when the kid itself is well formed (it is IdP data and may end up in CLI output). */
  kid?: string;
  why: string;
}

export type ParseJwksResult = Result<
  { keys: JwksKey[]; dropped: DroppedKey[] },
  { cause: 'invalid' | 'no_usable_keys'; detail: string }
>;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Coordinate sizes from RFC 7518 §6.2.1.2 (must be the full length) and RFC 8037 §2. */
const EC_COORDINATE_BYTES: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const ED25519_KEY_BYTES = 32;
const MIN_RSA_BITS = 2048;
/** WebCrypto's ceiling, kept: larger moduli only cost CPU inside the 1 s budget. */
const MAX_RSA_BITS = 16_384;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseJwks(doc: unknown): ParseJwksResult {
  if (!isRecord(doc)) return { ok: false, cause: 'invalid', detail: 'JWKS is not a JSON object' };
  const members = doc['keys'];
  if (!Array.isArray(members)) return { ok: false, cause: 'invalid', detail: 'JWKS "keys" is not an array' };
  if (!members.every(isRecord)) {
    return { ok: false, cause: 'invalid', detail: 'JWKS "keys" has a member that is not an object' };
  }

  const keys: JwksKey[] = [];
  const dropped: DroppedKey[] = [];
  for (const member of members) {
    const result = parseKey(member);
    if ('why' in result) dropped.push(result);
    else keys.push(result);
  }
  if (keys.length === 0) {
    return {
      ok: false,
      cause: 'no_usable_keys',
      detail: `JWKS has no usable signing key (${members.length} published, ${dropped.length} dropped)`,
    };
  }
  return { ok: true, keys, dropped };
}

function parseKey(raw: Record<string, unknown>): JwksKey | DroppedKey {
  const kid = raw['kid'];
  // Same shape rule as the token side (catalogue row 31).
  if (typeof kid !== 'string' || !isKidShape(kid))
    return { why: `kid missing or not 1-${MAX_KID_LENGTH} printable ASCII` };
  const drop = (why: string): DroppedKey => ({ kid, why });

  const kty = raw['kty'];
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') return drop('unsupported kty (only RSA, EC, OKP)');
  if (PRIVATE_MEMBERS.some((name) => Object.hasOwn(raw, name))) return drop('contains private key material');
  if (raw['use'] !== undefined && raw['use'] !== 'sig') return drop('use is not "sig"');
  const keyOps = raw['key_ops'];
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) {
    return drop('key_ops does not include "verify"');
  }
  const alg = raw['alg'];
  if (alg !== undefined && (typeof alg !== 'string' || !ASYMMETRIC_ALGORITHM_SET.has(alg))) {
    return drop('alg is not an allowed asymmetric JWS algorithm');
  }

  let key: JwksKey;
  switch (kty) {
    case 'RSA': {
      const why = rsaProblem(raw['n'], raw['e']);
      if (why !== undefined) return drop(why);
      key = { kid, kty, jwk: { kty, n: raw['n'], e: raw['e'], kid } };
      break;
    }
    case 'EC': {
      const crv = raw['crv'];
      const size =
        typeof crv === 'string' && Object.hasOwn(EC_COORDINATE_BYTES, crv)
          ? EC_COORDINATE_BYTES[crv]
          : undefined;
      if (typeof crv !== 'string' || size === undefined) return drop('unsupported EC curve');
      if (decodedLength(raw['x']) !== size || decodedLength(raw['y']) !== size) {
        return drop('EC x/y missing or of the wrong size');
      }
      key = { kid, kty, crv, jwk: { kty, crv, x: raw['x'], y: raw['y'], kid } };
      break;
    }
    case 'OKP': {
      if (raw['crv'] !== 'Ed25519') return drop('unsupported OKP curve (only Ed25519)');
      if (decodedLength(raw['x']) !== ED25519_KEY_BYTES)
        return drop('Ed25519 x missing or of the wrong size');
      key = { kid, kty, crv: 'Ed25519', jwk: { kty, crv: 'Ed25519', x: raw['x'], kid } };
      break;
    }
  }
  if (typeof alg === 'string') {
    key.alg = alg;
    key.jwk['alg'] = alg;
    // One key, one alg (RFC 8725 §3.1): a key whose own alg it cannot serve is never usable.
    if (!keyFitsAlg(key, alg)) return drop('alg does not fit the key type');
  }
  return key;
}

/** Why an RSA public key is unusable, or undefined. Wycheproof json_web_key_test: 1024-bit, e=1. */
function rsaProblem(n: unknown, e: unknown): string | undefined {
  const modulus = decodeBase64Url(n);
  const exponent = decodeBase64Url(e);
  if (modulus === undefined || exponent === undefined) return 'RSA n/e missing or not base64url';
  const bits = bitLength(modulus);
  if (bits < MIN_RSA_BITS) return `RSA modulus shorter than ${MIN_RSA_BITS} bits`;
  if (bits > MAX_RSA_BITS) return `RSA modulus longer than ${MAX_RSA_BITS} bits`;
  const last = exponent[exponent.length - 1] ?? 0;
  const isOne = bitLength(exponent) === 1;
  if (isOne || last % 2 === 0) return 'RSA exponent is 1 or even';
  if (hasRocaFingerprint(modulus)) return 'RSA modulus has the ROCA fingerprint (CVE-2017-15361)';
  return undefined;
}

/**
 * Moduli generated by the Infineon library broken by ROCA (CVE-2017-15361; Wycheproof
 * json_web_key_test) are, for every small prime p below, congruent to a power of 65537 mod p. A
 * random modulus fails that test for some p with overwhelming probability. Runs once per key at
 * load, never per request.
 */
const ROCA_PRIMES = [
  3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107,
  109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

function hasRocaFingerprint(modulus: Uint8Array): boolean {
  let n = 0n;
  for (const byte of modulus) n = (n << 8n) | BigInt(byte);
  return ROCA_PRIMES.every((p) => {
    const residue = Number(n % BigInt(p));
    const generator = 65537 % p;
    let power = 1;
    do {
      if (power === residue) return true;
      power = (power * generator) % p;
    } while (power !== 1);
    return false;
  });
}

function bitLength(bytes: Uint8Array): number {
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  const first = bytes[start];
  if (first === undefined) return 0;
  return (bytes.length - start - 1) * 8 + (32 - Math.clz32(first));
}

function decodeBase64Url(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || !BASE64URL.test(value) || value.length % 4 === 1) return undefined;
  return Buffer.from(value, 'base64url');
}

function decodedLength(value: unknown): number | undefined {
  return decodeBase64Url(value)?.length;
}

/**
 * Whether `key` may verify a JWS with `alg` (RFC 8725 §3.1, catalogue row 22): the key's own
 * alg must match when present, and the key type/curve must be the one the alg is defined for.
 */
export function keyFitsAlg(key: JwksKey, alg: string): boolean {
  const isEd25519 = key.kty === 'OKP' && key.crv === 'Ed25519';
  if (key.alg !== undefined && key.alg !== alg) {
    const bothEdDsa =
      isEd25519 && (key.alg === 'EdDSA' || key.alg === 'Ed25519') && (alg === 'EdDSA' || alg === 'Ed25519');
    if (!bothEdDsa) return false;
  }
  switch (alg) {
    case 'RS256':
    case 'RS384':
    case 'RS512':
    case 'PS256':
    case 'PS384':
    case 'PS512':
      return key.kty === 'RSA';
    case 'ES256':
      return key.kty === 'EC' && key.crv === 'P-256';
    case 'ES384':
      return key.kty === 'EC' && key.crv === 'P-384';
    case 'ES512':
      return key.kty === 'EC' && key.crv === 'P-521';
    case 'EdDSA':
    case 'Ed25519':
      return isEd25519;
    default:
      return false;
  }
}
