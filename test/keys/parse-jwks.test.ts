/**
 * parseJwks and keyFitsAlg: which published keys we are willing to verify with (rows 22 and 26 of
 * test/security/catalogue.test.ts), with keys minted at test time.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { type JwksKey, keyFitsAlg, parseJwks } from '../../src/core/keys/parse-jwks.ts';
import { makeKey, type TestKey } from '../support/keys.ts';
import { match } from '../support/matchers.ts';

let rsa: TestKey;
let rsa1024: TestKey;
let es256: TestKey;
let es384: TestKey;
let ed: TestKey;

beforeAll(async () => {
  [rsa, rsa1024, es256, es384, ed] = await Promise.all([
    makeKey('RS256', 'rsa'),
    makeKey('RS256', 'rsa-1024', 1024),
    makeKey('ES256', 'es256'),
    makeKey('ES384', 'es384'),
    makeKey('EdDSA', 'ed'),
  ]);
});

const only = (jwk: Record<string, unknown>) => parseJwks({ keys: [jwk] });

describe('parseJwks', () => {
  it('keeps RSA, EC and Ed25519 signing keys with public members only', () => {
    // Act
    const result = parseJwks({ keys: [rsa.jwk, es256.jwk, es384.jwk, ed.jwk] });

    // Assert
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.dropped).toEqual([]);
    expect(result.keys.map((k) => [k.kid, k.kty, k.crv, k.alg])).toEqual([
      ['rsa', 'RSA', undefined, 'RS256'],
      ['es256', 'EC', 'P-256', 'ES256'],
      ['es384', 'EC', 'P-384', 'ES384'],
      ['ed', 'OKP', 'Ed25519', 'EdDSA'],
    ]);
    expect(Object.keys(result.keys[0]?.jwk ?? {}).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n']);
    expect(Object.keys(result.keys[1]?.jwk ?? {}).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'x', 'y']);
    expect(Object.keys(result.keys[3]?.jwk ?? {}).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'x']);
  });

  it('keeps an Entra ID style key with x5t and x5c but no alg, and drops x5c from the JWK', () => {
    // Arrange
    const entra = {
      kty: 'RSA',
      use: 'sig',
      kid: 'entra-kid',
      x5t: 'abc',
      n: rsa.jwk.n,
      e: rsa.jwk.e,
      x5c: ['MIIC'],
      issuer: 'x',
    };

    // Act
    const result = only(entra);

    // Assert
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.keys[0]).toEqual({
      kid: 'entra-kid',
      kty: 'RSA',
      jwk: { kty: 'RSA', n: rsa.jwk.n, e: rsa.jwk.e, kid: 'entra-kid' },
    });
  });

  it.each([
    ['a string', 'keys'],
    ['null', null],
    ['an array', [{}]],
  ])('rejects the whole document when it is %s', (_what, doc) => {
    expect(parseJwks(doc)).toMatchObject({ ok: false, cause: 'invalid' });
  });

  it('rejects the whole document when keys is not an array', () => {
    expect(parseJwks({ keys: { kid: 'a' } })).toMatchObject({ ok: false, cause: 'invalid' });
  });

  it('rejects the whole document when one member is not an object, even next to good keys', () => {
    expect(parseJwks({ keys: [rsa.jwk, 'junk'] })).toMatchObject({ ok: false, cause: 'invalid' });
    expect(parseJwks({ keys: [rsa.jwk, null] })).toMatchObject({ ok: false, cause: 'invalid' });
    expect(parseJwks({ keys: [rsa.jwk, [rsa.jwk]] })).toMatchObject({ ok: false, cause: 'invalid' });
  });

  it('fails with no_usable_keys on keys: []', () => {
    expect(parseJwks({ keys: [] })).toMatchObject({ ok: false, cause: 'no_usable_keys' });
  });

  it('fails with no_usable_keys when every key is unusable', () => {
    expect(parseJwks({ keys: [{ kty: 'oct', kid: 'h', k: 'c2VjcmV0' }] })).toMatchObject({
      ok: false,
      cause: 'no_usable_keys',
    });
  });

  it('drops unusable keys and keeps the good ones (row 26)', () => {
    // Arrange
    const doc = {
      keys: [
        { kty: 'oct', kid: 'oct', k: 'c2VjcmV0' },
        { ...rsa.jwk, kid: 'private', d: 'AQAB' },
        rsa1024.jwk,
        { ...rsa.jwk, kid: 'enc', use: 'enc' },
        rsa.jwk,
      ],
    };

    // Act
    const result = parseJwks(doc);

    // Assert
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.keys.map((k) => k.kid)).toEqual(['rsa']);
    expect(result.dropped.map((d) => d.kid)).toEqual(['oct', 'private', 'rsa-1024', 'enc']);
  });

  it.each<[string, (good: Record<string, unknown>) => Record<string, unknown>]>([
    ['no kid', ({ kid: _kid, ...rest }) => rest],
    ['an empty kid', (good) => ({ ...good, kid: '' })],
    ['a numeric kid', (good) => ({ ...good, kid: 7 })],
    ['a 129-character kid', (good) => ({ ...good, kid: 'k'.repeat(129) })],
    ['a kid with a newline', (good) => ({ ...good, kid: 'a\nb' })],
    ['kty oct', (good) => ({ ...good, kty: 'oct' })],
    ['an unknown kty', (good) => ({ ...good, kty: 'AKP' })],
    ['a private member p', (good) => ({ ...good, p: 'AQAB' })],
    ['a private member qi', (good) => ({ ...good, qi: 'AQAB' })],
    ['use enc', (good) => ({ ...good, use: 'enc' })],
    ['key_ops without verify', (good) => ({ ...good, key_ops: ['encrypt'] })],
    ['key_ops that is not an array', (good) => ({ ...good, key_ops: 'verify' })],
    ['alg HS256', (good) => ({ ...good, alg: 'HS256' })],
    ['alg none', (good) => ({ ...good, alg: 'none' })],
    ['alg RSA-OAEP', (good) => ({ ...good, alg: 'RSA-OAEP' })],
    ['an alg of another key type', (good) => ({ ...good, alg: 'ES256' })],
    ['e = 1 (Wycheproof)', (good) => ({ ...good, e: 'AQ' })],
    ['an even exponent', (good) => ({ ...good, e: 'AAI' })],
    ['n that is not base64url', (good) => ({ ...good, n: 'ab+/' })],
    ['a missing e', ({ e: _e, ...rest }) => rest],
  ])('drops an RSA key with %s', (_what, mutate) => {
    // Arrange
    const doc = { keys: [mutate({ ...rsa.jwk, kid: 'bad' }), rsa.jwk] };

    // Act
    const result = parseJwks(doc);

    // Assert
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.keys.map((k) => k.kid)).toEqual(['rsa']);
    expect(result.dropped).toHaveLength(1);
  });

  it('measures the modulus after stripping leading zero bytes', () => {
    // Arrange: a 1024-bit modulus padded with 128 zero bytes is 256 bytes long but still 1024 bits.
    const padded = Buffer.concat([Buffer.alloc(128), Buffer.from(String(rsa1024.jwk.n), 'base64url')]);
    const leadingZero = Buffer.concat([Buffer.alloc(1), Buffer.from(String(rsa.jwk.n), 'base64url')]);

    // Act
    const weak = only({ ...rsa1024.jwk, n: padded.toString('base64url') });
    const strong = only({ ...rsa.jwk, n: leadingZero.toString('base64url') });

    // Assert
    expect(weak).toMatchObject({ ok: false, cause: 'no_usable_keys' });
    expect(strong.ok).toBe(true);
  });

  it.each<[string, (good: Record<string, unknown>) => Record<string, unknown>]>([
    ['curve secp256k1', (good) => ({ ...good, crv: 'secp256k1' })],
    ['a missing y', ({ y: _y, ...rest }) => rest],
    ['a short x', (good) => ({ ...good, x: 'AAAA' })],
  ])('drops an EC key with %s', (_what, mutate) => {
    expect(only(mutate({ ...es256.jwk }))).toMatchObject({ ok: false, cause: 'no_usable_keys' });
  });

  it.each<[string, (good: Record<string, unknown>) => Record<string, unknown>]>([
    ['curve Ed448', (good) => ({ ...good, crv: 'Ed448' })],
    ['curve X25519', (good) => ({ ...good, crv: 'X25519' })],
    ['a missing x', ({ x: _x, ...rest }) => rest],
  ])('drops an OKP key with %s', (_what, mutate) => {
    expect(only(mutate({ ...ed.jwk }))).toMatchObject({ ok: false, cause: 'no_usable_keys' });
  });

  it('keeps a key whose key_ops include verify', () => {
    expect(only({ ...rsa.jwk, key_ops: ['verify'] }).ok).toBe(true);
  });

  it('keeps both keys of a duplicated kid so the lookup can refuse the ambiguity (row 34)', () => {
    // Act
    const result = parseJwks({ keys: [rsa.jwk, { ...es256.jwk, kid: 'rsa' }] });

    // Assert
    expect(result.ok && result.keys.map((k) => k.kid)).toEqual(['rsa', 'rsa']);
  });

  it('names a dropped key only by a well-formed kid', () => {
    // Act
    const result = parseJwks({ keys: [{ ...rsa.jwk, kid: 'x\u0000y' }, rsa.jwk] });

    // Assert
    expect(result.ok && result.dropped).toEqual([{ why: match.any(String) }]);
  });
});

describe('keyFitsAlg', () => {
  const key = (kty: JwksKey['kty'], crv?: string, alg?: string): JwksKey => ({
    kid: 'k',
    kty,
    ...(crv === undefined ? {} : { crv }),
    ...(alg === undefined ? {} : { alg }),
    jwk: {},
  });

  it.each<[string, JwksKey, string, boolean]>([
    ['an RSA key without alg verifies RS256', key('RSA'), 'RS256', true],
    ['an RSA key without alg verifies PS512', key('RSA'), 'PS512', true],
    [
      'an RSA key with alg PS256 refuses RS256 (RFC 8725 §3.1)',
      key('RSA', undefined, 'PS256'),
      'RS256',
      false,
    ],
    ['an RSA key refuses ES256', key('RSA'), 'ES256', false],
    ['a P-256 key verifies ES256', key('EC', 'P-256'), 'ES256', true],
    ['a P-256 key refuses ES384', key('EC', 'P-256'), 'ES384', false],
    ['a P-384 key verifies ES384', key('EC', 'P-384'), 'ES384', true],
    ['a P-521 key verifies ES512', key('EC', 'P-521'), 'ES512', true],
    ['an EC key refuses RS256', key('EC', 'P-256'), 'RS256', false],
    ['an Ed25519 key verifies EdDSA', key('OKP', 'Ed25519'), 'EdDSA', true],
    ['an Ed25519 key verifies Ed25519', key('OKP', 'Ed25519'), 'Ed25519', true],
    ['an Ed25519 key with alg EdDSA verifies Ed25519', key('OKP', 'Ed25519', 'EdDSA'), 'Ed25519', true],
    ['an Ed25519 key with alg Ed25519 verifies EdDSA', key('OKP', 'Ed25519', 'Ed25519'), 'EdDSA', true],
    ['an Ed25519 key refuses ES256', key('OKP', 'Ed25519'), 'ES256', false],
    ['an RSA key with alg EdDSA refuses Ed25519', key('RSA', undefined, 'EdDSA'), 'Ed25519', false],
    ['any key refuses HS256', key('RSA'), 'HS256', false],
    ['any key refuses none', key('EC', 'P-256'), 'none', false],
  ])('%s', (_sentence, candidate, alg, expected) => {
    expect(keyFitsAlg(candidate, alg)).toBe(expected);
  });
});
