/**
 * Key selection (src/core/keys/key-selection.ts): the kid and alg a key must fit, ambiguous kids,
 * keys dropped at load, and the warm answer of peekKey. First through the key store against a real
 * loopback IdP, then selection alone over parsed key sets. Row numbers are the cases of the
 * hostile-input catalogue, test/security/catalogue.test.ts.
 */

import { compactVerify } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildKeySet, keyFor, peekedKey, selectKey } from '../../src/core/keys/key-selection.ts';
import { type JwksKey, parseJwks } from '../../src/core/keys/parse-jwks.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { lookup, makeKeyStoreTestKeys, pinnedIssuer, storeWith } from '../support/key-store-fixture.ts';
import { jwksOf, signToken, type TestKey } from '../support/keys.ts';

let server: IdpServer;
let keyA: TestKey;
let keyB: TestKey;
let es256: TestKey;
let ed: TestKey;
let weak: TestKey;

beforeAll(async () => {
  ({ keyA, keyB, es256, ed, weak } = await makeKeyStoreTestKeys());
});

beforeEach(async () => {
  server = await startIdpServer();
});

afterEach(async () => {
  await server.close();
});

/** An issuer whose JWKS is pinned at `${server.url}${path}`. */
const pinned = (path?: string, issuerPath?: string) => pinnedIssuer(server.url, path, issuerPath);

describe('KeyStore selection: kid and alg', () => {
  it('verifies ES256 and EdDSA keys, treating EdDSA and Ed25519 as one alg for Ed25519 keys', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(es256, ed) });
    const { store } = storeWith();
    const issuer = pinned();

    // Act
    const ec = await store.getKey(lookup(issuer, 'key-es', 'ES256'));
    const eddsa = await store.getKey(lookup(issuer, 'key-ed', 'EdDSA'));
    const ed25519 = await store.getKey(lookup(issuer, 'key-ed', 'Ed25519'));

    // Assert
    expect([ec.ok, eddsa.ok, ed25519.ok]).toEqual([true, true, true]);
    if (!ec.ok || !eddsa.ok || !ed25519.ok) return;
    await expect(compactVerify(await signToken(es256, {}), ec.key)).resolves.toBeDefined();
    await expect(compactVerify(await signToken(ed, {}), eddsa.key)).resolves.toBeDefined();
    await expect(compactVerify(await signToken(ed, {}), ed25519.key)).resolves.toBeDefined();
  });

  it('denies with kid_unknown without refetching when the one key for the kid does not fit the alg (row 22)', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith();
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    clock.advance(60_000);

    // Act
    const ps = await store.getKey(lookup(issuer, 'key-a', 'PS256'));
    const es = await store.getKey(lookup(issuer, 'key-a', 'ES256'));

    // Assert
    expect(ps).toMatchObject({ ok: false, reason: 'kid_unknown' });
    expect(es).toMatchObject({ ok: false, reason: 'kid_unknown' });
    expect(server.hits('/jwks')).toBe(1);
  });

  it('denies with jwks_ambiguous_key when two keys share the kid (row 34)', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: { keys: [keyA.jwk, { ...keyB.jwk, kid: 'key-a' }] } });
    const { store } = storeWith();

    // Act
    const result = await store.getKey(lookup(pinned(), 'key-a'));

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'jwks_ambiguous_key' });
  });

  it('drops unusable keys at load while the good ones keep working (row 26)', async () => {
    // Arrange
    server.on('/jwks', {
      kind: 'json',
      body: {
        keys: [
          { kty: 'oct', kid: 'key-oct', k: 'c2VjcmV0' },
          { ...keyB.jwk, kid: 'key-private', d: 'AQAB' },
          weak.jwk,
          { ...keyB.jwk, kid: 'key-enc', use: 'enc' },
          keyA.jwk,
        ],
      },
    });
    const { store } = storeWith();
    const issuer = pinned();

    // Act
    const good = await store.getKey(lookup(issuer, 'key-a'));
    const refused = await Promise.all(
      ['key-oct', 'key-private', 'key-weak', 'key-enc'].map((kid) => store.getKey(lookup(issuer, kid))),
    );

    // Assert
    expect(good.ok).toBe(true);
    expect(refused.map((r) => (r.ok ? 'ok' : r.reason))).toEqual([
      'kid_unknown',
      'kid_unknown',
      'kid_unknown',
      'kid_unknown',
    ]);
    const snapshot = store.snapshot(issuer);
    expect(snapshot.kids).toEqual(['key-a']);
    expect(snapshot.dropped?.map((d) => d.kid)).toEqual(['key-oct', 'key-private', 'key-weak', 'key-enc']);
  });
});

describe('KeyStore: peekKey (the warm answer without waiting)', () => {
  it('answers at once, as fresh, once getKey has imported the key', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith();
    const issuer = pinned();
    const first = await store.getKey(lookup(issuer, 'key-a'));
    clock.advance(1_000);

    // Act
    const peeked = store.peekKey({ issuer, kid: 'key-a', alg: 'RS256' });

    // Assert
    expect(peeked).toMatchObject({ ok: true, cacheState: 'fresh', keysAgeMs: 1_000 });
    expect(first.ok && peeked?.key).toBe(first.ok && first.key);
    expect(server.hits('/jwks')).toBe(1);
  });

  it('leaves the decision to getKey (undefined) for a cold issuer, an unknown kid or another alg', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store } = storeWith();
    const issuer = pinned();
    const cold = store.peekKey({ issuer, kid: 'key-a', alg: 'RS256' });
    await store.getKey(lookup(issuer, 'key-a'));

    // Act / Assert
    expect(cold).toBeUndefined();
    expect(store.peekKey({ issuer, kid: 'key-z', alg: 'RS256' })).toBeUndefined();
    // Not imported for PS256 yet (imports are per key and alg).
    expect(store.peekKey({ issuer, kid: 'key-a', alg: 'PS256' })).toBeUndefined();
    expect(server.hits('/jwks')).toBe(1);
  });

  it('leaves keys past the soft TTL to getKey, which refreshes them', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith({ softTtlMs: 10_000 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    clock.advance(10_001);

    // Act / Assert
    expect(store.peekKey({ issuer, kid: 'key-a', alg: 'RS256' })).toBeUndefined();
  });

  it('never answers for a kid that two keys share', async () => {
    // Arrange
    const twin = { ...keyB.jwk, kid: 'key-a' };
    server.on('/jwks', { kind: 'json', body: { keys: [keyA.jwk, twin] } });
    const { store } = storeWith();
    const issuer = pinned();
    const looked = await store.getKey(lookup(issuer, 'key-a'));

    // Act / Assert
    expect(looked).toMatchObject({ ok: false, reason: 'jwks_ambiguous_key' });
    expect(store.peekKey({ issuer, kid: 'key-a', alg: 'RS256' })).toBeUndefined();
  });
});

describe('key selection over a key set', () => {
  function setOf(keys: readonly unknown[]) {
    const parsed = parseJwks({ keys });
    if (!parsed.ok) throw new Error('test JWKS invalid');
    return buildKeySet(parsed.keys, parsed.dropped, 0, 1);
  }

  it('finds the one key with the kid when it fits the alg', () => {
    // Arrange
    const set = setOf([keyA.jwk, keyB.jwk]);

    // Act
    const selection = selectKey(set, 'key-b', 'RS256');

    // Assert
    expect(selection).toMatchObject({ kind: 'key', alg: 'RS256', key: { kid: 'key-b', kty: 'RSA' } });
  });

  it('tells a missing kid, a kid two keys share (row 34) and a key that does not fit the alg (row 22) apart', () => {
    // Arrange
    const set = setOf([keyA.jwk, { ...keyB.jwk, kid: 'key-a' }, es256.jwk]);

    // Act
    const kinds = [
      selectKey(set, 'key-z', 'RS256'),
      selectKey(set, 'key-a', 'RS256'),
      selectKey(set, 'key-es', 'RS256'),
      selectKey(set, 'key-es', 'ES384'),
    ].map((selection) => selection.kind);

    // Assert
    expect(kinds).toEqual(['missing', 'ambiguous', 'misfit', 'misfit']);
  });

  it('lets an Ed25519 key verify both EdDSA and Ed25519', () => {
    // Arrange
    const set = setOf([ed.jwk]);

    // Act
    const kinds = ['EdDSA', 'Ed25519', 'ES256'].map((alg) => selectKey(set, 'key-ed', alg).kind);

    // Assert
    expect(kinds).toEqual(['key', 'key', 'misfit']);
  });

  it('refuses with the reason and detail of each kind', async () => {
    // Arrange
    const set = setOf([keyA.jwk, { ...keyB.jwk, kid: 'twin' }, { ...keyA.jwk, kid: 'twin' }]);

    // Act
    const refusals = await Promise.all([
      keyFor(selectKey(set, 'key-z', 'RS256'), set, 'no key with this kid'),
      keyFor(selectKey(set, 'twin', 'RS256'), set, 'no key with this kid'),
      keyFor(selectKey(set, 'key-a', 'PS256'), set, 'no key with this kid'),
    ]);

    // Assert
    expect(refusals).toEqual([
      { ok: false, reason: 'kid_unknown', detail: 'no key with this kid' },
      { ok: false, reason: 'jwks_ambiguous_key', detail: 'two or more keys share this kid' },
      { ok: false, reason: 'kid_unknown', detail: 'the key with this kid does not fit the token alg' },
    ]);
  });

  it('imports a key once per alg and answers later lookups with the same CryptoKey', async () => {
    // Arrange
    const set = setOf([keyA.jwk]);
    const token = await signToken(keyA, { sub: 'x' });

    // Act
    const first = await keyFor(selectKey(set, 'key-a', 'RS256'), set, 'missing');
    const second = await keyFor(selectKey(set, 'key-a', 'RS256'), set, 'missing');

    // Assert
    expect(first.ok && second.ok && first.key === second.key).toBe(true);
    if (!first.ok) return;
    await expect(compactVerify(token, first.key)).resolves.toBeDefined();
  });

  it('peeks only at a key already imported for this alg, and never at a shared kid', async () => {
    // Arrange
    const set = setOf([keyA.jwk, ed.jwk, { ...keyB.jwk, kid: 'twin' }, { ...keyA.jwk, kid: 'twin' }]);
    const before = peekedKey(set, 'key-a', 'RS256');
    const imported = await keyFor(selectKey(set, 'key-a', 'RS256'), set, 'missing');
    await keyFor(selectKey(set, 'key-ed', 'EdDSA'), set, 'missing');

    // Act
    const after = peekedKey(set, 'key-a', 'RS256');

    // Assert
    expect(before).toBeUndefined();
    expect(imported.ok && after === imported.key).toBe(true);
    expect(peekedKey(set, 'key-ed', 'Ed25519')).toBeUndefined();
    expect(peekedKey(set, 'twin', 'RS256')).toBeUndefined();
    expect(peekedKey(set, 'key-z', 'RS256')).toBeUndefined();
  });

  it('remembers a key WebCrypto refuses as unusable: kid_unknown, and nothing to peek', async () => {
    // Arrange: an EC point off its curve, past parse-jwks (which checks sizes, not the point).
    const zero = Buffer.alloc(32).toString('base64url');
    const offCurve: JwksKey = {
      kid: 'key-off',
      kty: 'EC',
      crv: 'P-256',
      jwk: { kty: 'EC', crv: 'P-256', x: zero, y: zero },
    };
    const set = buildKeySet([offCurve], [], 0, 1);

    // Act
    const result = await keyFor(selectKey(set, 'key-off', 'ES256'), set, 'missing');

    // Assert
    expect(result).toEqual({
      ok: false,
      reason: 'kid_unknown',
      detail: 'the key with this kid could not be imported',
    });
    expect(peekedKey(set, 'key-off', 'ES256')).toBeUndefined();
  });
});
