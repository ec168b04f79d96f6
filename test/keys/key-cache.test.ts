/**
 * Caching and staleness (src/core/keys/key-cache.ts): the last good keys served stale while the IdP
 * fails, up to the max-staleness bound; a refresh past the soft TTL the request does not pay for;
 * rotation, and the refetch cooldown bounding unknown kids. Rows are those of
 * test/security/catalogue.test.ts.
 */

import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeyCache } from '../../src/core/keys/key-cache.ts';
import { parseJwks } from '../../src/core/keys/parse-jwks.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import {
  issuerConfig,
  lookup,
  makeKeyStoreTestKeys,
  manualClock,
  pinnedIssuer,
  storeWith,
} from '../support/key-store-fixture.ts';
import { jwksOf, type TestKey } from '../support/keys.ts';

let server: IdpServer;
let keyA: TestKey;
let keyB: TestKey;

beforeAll(async () => {
  ({ keyA, keyB } = await makeKeyStoreTestKeys());
});

beforeEach(async () => {
  server = await startIdpServer();
});

afterEach(async () => {
  await server.close();
});

/** An issuer whose JWKS is pinned at `${server.url}${path}`. */
const pinned = (path?: string, issuerPath?: string) => pinnedIssuer(server.url, path, issuerPath);

describe('KeyStore caching: stale keys while the IdP fails', () => {
  it('serves the last good keys as stale when a refresh fails', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith({ softTtlMs: 600_000 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    server.on('/jwks', { kind: 'status', status: 503 });
    clock.advance(601_000);

    // Act
    const first = await store.getKey(lookup(issuer, 'key-a'));
    await store.idle(); // the background refresh fails with 503
    const second = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(first).toMatchObject({ ok: true, cacheState: 'stale', keysAgeMs: 601_000 });
    expect(second).toMatchObject({ ok: true, cacheState: 'stale' });
    expect(server.hits('/jwks')).toBe(2); // one failed refresh; the second call waits out the cooldown
    expect(store.snapshot(issuer).lastError).toBe('jwks: HTTP 503');
  });

  it('serves the last good keys as stale when a refresh hangs past the deadline', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith();
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    server.on('/jwks', { kind: 'hang' });
    clock.advance(601_000);
    const started = performance.now();

    // Act
    const result = await store.getKey(lookup(issuer, 'key-a', 'RS256', 300));

    // Assert
    expect(result).toMatchObject({ ok: true, cacheState: 'stale' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it.each<[string, Parameters<IdpServer['on']>[1]]>([
    ['malformed JSON', { kind: 'raw', body: '{"keys":' }],
    ['keys: []', { kind: 'json', body: { keys: [] } }],
    ['a document with a non-object member', { kind: 'json', body: { keys: [null] } }],
  ])('keeps the last good keys when a refresh returns %s', async (_what, behaviour) => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith();
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    server.on('/jwks', behaviour);
    clock.advance(601_000);

    // Act
    const result = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(result).toMatchObject({ ok: true, cacheState: 'stale' });
  });

  it('stops serving stale keys beyond the max-staleness bound while the IdP is down', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith({ maxStaleMs: 3_600_000 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    server.on('/jwks', { kind: 'status', status: 503 });
    clock.advance(3_600_001);

    // Act
    const result = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'idp_unavailable', cacheState: 'unavailable' });
  });
});

describe('KeyStore caching: refresh without charging the request', () => {
  it('answers from the expired-but-bounded key set at once and refreshes in the background', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith({ softTtlMs: 300_000 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA, keyB), delayMs: 400 });
    clock.advance(300_001);
    const started = performance.now();

    // Act
    const during = await store.getKey(lookup(issuer, 'key-a'));
    const elapsed = performance.now() - started;
    await store.idle();
    const after = await store.getKey(lookup(issuer, 'key-b'));

    // Assert: the slow refresh (400 ms) was not on the request's path.
    expect(during).toMatchObject({ ok: true, cacheState: 'stale' });
    expect(elapsed).toBeLessThan(300);
    expect(after).toMatchObject({ ok: true, cacheState: 'fresh' });
    expect(server.hits('/jwks')).toBe(2);
  });
});

describe('KeyStore caching: rotation and the refetch cooldown', () => {
  it('refetches once when a new kid appears after the cooldown', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith({ refetchCooldownMs: 30_000 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA, keyB) });
    clock.advance(30_000);

    // Act
    const rotated = await store.getKey(lookup(issuer, 'key-b'));
    const again = await store.getKey(lookup(issuer, 'key-b'));

    // Assert
    expect(rotated).toMatchObject({ ok: true, cacheState: 'refetched' });
    expect(again).toMatchObject({ ok: true, cacheState: 'fresh' });
    expect(server.hits('/jwks')).toBe(2);
  });

  it('answers kid_unknown without I/O for a new kid inside the cooldown', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith({ refetchCooldownMs: 30_000 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA, keyB) });
    clock.advance(29_000);

    // Act
    const result = await store.getKey(lookup(issuer, 'key-b'));

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'kid_unknown', cacheState: 'fresh' });
    expect(server.hits('/jwks')).toBe(1);
  });

  it('stops trusting a removed key after the next good fetch', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA, keyB) });
    const { store, clock } = storeWith({ softTtlMs: 600_000 });
    const issuer = pinned();
    expect((await store.getKey(lookup(issuer, 'key-a'))).ok).toBe(true);
    server.on('/jwks', { kind: 'json', body: jwksOf(keyB) });
    clock.advance(600_001);

    // Act: past the soft TTL the old set still answers at once while the refresh runs behind it.
    const beforeRefresh = await store.getKey(lookup(issuer, 'key-a'));
    await store.idle();
    const removed = await store.getKey(lookup(issuer, 'key-a'));
    const kept = await store.getKey(lookup(issuer, 'key-b'));

    // Assert
    expect(beforeRefresh).toMatchObject({ ok: true, cacheState: 'stale' });
    expect(removed).toMatchObject({ ok: false, reason: 'kid_unknown', cacheState: 'fresh' });
    expect(kept).toMatchObject({ ok: true, cacheState: 'fresh' });
    expect(server.hits('/jwks')).toBe(2);
  });

  it('fetches at most once per cooldown for a flood of 40 unknown kids (row 33)', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith({ refetchCooldownMs: 30_000 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    clock.advance(30_000);
    const kids = Array.from({ length: 40 }, (_, i) => `random-${i}-${Math.random().toString(36).slice(2)}`);

    // Act
    const sequential = [];
    for (const kid of kids.slice(0, 20)) sequential.push(await store.getKey(lookup(issuer, kid)));
    const concurrent = await Promise.all(kids.slice(20).map((kid) => store.getKey(lookup(issuer, kid))));

    // Assert
    expect([...sequential, ...concurrent].every((r) => !r.ok && r.reason === 'kid_unknown')).toBe(true);
    expect(server.hits('/jwks')).toBeLessThanOrEqual(2);
  });
});

describe('createKeyCache', () => {
  const SOFT_TTL_MS = 300_000;
  const MAX_STALE_MS = 3_600_000;
  const COOLDOWN_MS = 30_000;

  function cacheWith() {
    const clock = manualClock();
    const cache = createKeyCache({
      now: clock.now,
      softTtlMs: SOFT_TTL_MS,
      maxStaleMs: MAX_STALE_MS,
      refetchCooldownMs: COOLDOWN_MS,
    });
    return { cache, clock };
  }

  function fetched(...keys: TestKey[]) {
    const parsed = parseJwks(jwksOf(...keys));
    if (!parsed.ok) throw new Error('test JWKS invalid');
    return { keys: parsed.keys, dropped: parsed.dropped };
  }

  const issuerAt = (n: number, jwksUri = `https://idp${n}.example.org/jwks`) =>
    issuerConfig(`https://idp${n}.example.org`, { jwksUri });

  it('keeps one entry per issuer and pinned jwksUri, and find() makes none', () => {
    // Arrange
    const { cache } = cacheWith();

    // Act
    const before = cache.find(issuerAt(1));
    const entry = cache.entryFor(issuerAt(1));

    // Assert
    expect(before).toBeUndefined();
    expect(cache.entryFor(issuerAt(1))).toBe(entry);
    expect(cache.find(issuerAt(1))).toBe(entry);
    expect(cache.entryFor(issuerAt(1, 'https://idp1.example.org/other-jwks'))).not.toBe(entry);
    expect(entry).toEqual({
      issuer: 'https://idp1.example.org',
      pinnedJwksUri: 'https://idp1.example.org/jwks',
    });
  });

  it('evicts the oldest entry beyond 64 issuers', () => {
    // Arrange
    const { cache } = cacheWith();

    // Act
    for (let n = 1; n <= 65; n += 1) cache.entryFor(issuerAt(n));

    // Assert
    expect([...cache.entries()]).toHaveLength(64);
    expect(cache.find(issuerAt(1))).toBeUndefined();
    expect(cache.find(issuerAt(2))).toBeDefined();
    expect(cache.find(issuerAt(65))).toBeDefined();
  });

  it('serves a set as fresh within the soft TTL, as usable up to the max-staleness bound, then not at all', () => {
    // Arrange
    const { cache, clock } = cacheWith();
    const entry = cache.entryFor(issuerAt(1));
    cache.install(entry, fetched(keyA));
    const set = entry.keySet;
    if (set === undefined) throw new Error('no set installed');

    // Act
    clock.advance(SOFT_TTL_MS);
    const atSoftTtl = [cache.isFresh(cache.ageOf(set)), cache.usableSet(entry)];
    clock.advance(1);
    const pastSoftTtl = [cache.isFresh(cache.ageOf(set)), cache.usableSet(entry)];
    clock.advance(MAX_STALE_MS - SOFT_TTL_MS - 1);
    const atMaxStale = cache.usableSet(entry);
    clock.advance(1);
    const pastMaxStale = cache.usableSet(entry);

    // Assert
    expect(atSoftTtl).toEqual([true, set]);
    expect(pastSoftTtl).toEqual([false, set]);
    expect(atMaxStale).toBe(set);
    expect(pastMaxStale).toBeUndefined();
  });

  it('replaces the whole set on install, under a new generation and without the old imports', () => {
    // Arrange
    const { cache } = cacheWith();
    const entry = cache.entryFor(issuerAt(1));
    cache.install(entry, fetched(keyA, keyB));
    const first = entry.keySet;

    // Act
    cache.install(entry, fetched(keyB));
    const second = entry.keySet;

    // Assert
    expect(first?.keys.map((key) => key.kid)).toEqual(['key-a', 'key-b']);
    expect(second?.keys.map((key) => key.kid)).toEqual(['key-b']);
    expect(second?.generation).toBeGreaterThan(first?.generation ?? Number.POSITIVE_INFINITY);
    expect(second?.imported.size).toBe(0);
  });

  it('holds a refetch back for the cooldown since the last attempt, but only while it has usable keys', () => {
    // Arrange
    const { cache, clock } = cacheWith();
    const entry = cache.entryFor(issuerAt(1));
    entry.lastAttemptAt = clock.now();

    // Act
    const withoutKeys = cache.cooldownOver(entry);
    cache.install(entry, fetched(keyA));
    const justFetched = cache.cooldownOver(entry);
    clock.advance(COOLDOWN_MS - 1);
    const insideCooldown = cache.cooldownOver(entry);
    clock.advance(1);
    const afterCooldown = cache.cooldownOver(entry);

    // Assert
    expect([withoutKeys, justFetched, insideCooldown, afterCooldown]).toEqual([true, false, false, true]);
  });

  it('forgets every entry on clear', () => {
    // Arrange
    const { cache } = cacheWith();
    cache.entryFor(issuerAt(1));
    cache.entryFor(issuerAt(2));

    // Act
    cache.clear();

    // Assert
    expect([...cache.entries()]).toEqual([]);
  });
});
