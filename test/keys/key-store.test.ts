/**
 * The key store as a whole, against a real loopback IdP: a pinned or discovered JWKS turned into a
 * verifying key, the fresh cache answering without I/O, per-issuer isolation, waits bounded by the
 * caller's deadline, prefetch, snapshot, clear, and a slow but healthy IdP. Rows are those of
 * test/security/catalogue.test.ts.
 */

import { match } from '../support/matchers.ts';
import { compactVerify } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import {
  issuerConfig,
  lookup,
  makeKeyStoreTestKeys,
  pinnedIssuer,
  storeWith,
} from '../support/key-store-fixture.ts';
import { jwksOf, signToken, type TestKey } from '../support/keys.ts';

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

describe('KeyStore: getting keys', () => {
  it('returns a key that verifies the kid owner token from a pinned jwksUri', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA, keyB) });
    const { store, events } = storeWith();
    const issuer = pinned();
    const token = await signToken(keyB, { sub: 'x' });

    // Act
    const result = await store.getKey(lookup(issuer, 'key-b'));

    // Assert
    expect(result).toMatchObject({ ok: true, cacheState: 'refetched' });
    if (!result.ok) return;
    await expect(compactVerify(token, result.key)).resolves.toBeDefined();
    expect(events).toEqual([
      { issuer: issuer.issuer, kind: 'jwks', url: issuer.jwksUri, outcome: 'ok', ms: match.any(Number) },
    ]);
  });

  it('answers from the cache without I/O while the keys are fresh', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith();
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));
    clock.advance(5_000);

    // Act
    const result = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(result).toMatchObject({ ok: true, cacheState: 'fresh', keysAgeMs: 5_000 });
    expect(server.hits('/jwks')).toBe(1);
  });

  it('finds the JWKS through discovery when no jwksUri is pinned', async () => {
    // Arrange
    const issuer = issuerConfig(`${server.url}/realms/demo`);
    server.on('/realms/demo/.well-known/openid-configuration', {
      kind: 'json',
      body: { issuer: issuer.issuer, jwks_uri: `${server.url}/realms/demo/certs` },
    });
    server.on('/realms/demo/certs', { kind: 'json', body: jwksOf(keyA) });
    const { store, events } = storeWith();

    // Act
    const result = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(result).toMatchObject({ ok: true, cacheState: 'refetched' });
    expect(events.map((e) => [e.kind, e.outcome])).toEqual([
      ['discovery', 'ok'],
      ['jwks', 'ok'],
    ]);
    expect(store.snapshot(issuer)).toMatchObject({
      jwksUri: `${server.url}/realms/demo/certs`,
      kids: ['key-a'],
    });
  });

  it('only checks a token against the keys of its own issuer (row 56)', async () => {
    // Arrange
    server.on('/a/jwks', { kind: 'json', body: jwksOf(keyA) });
    server.on('/b/jwks', { kind: 'json', body: jwksOf(keyB) });
    const { store } = storeWith();
    const issuerA = pinned('/a/jwks', '/a');
    const issuerB = pinned('/b/jwks', '/b');
    await store.getKey(lookup(issuerA, 'key-a'));

    // Act
    const crossed = await store.getKey(lookup(issuerB, 'key-a'));

    // Assert
    expect(crossed).toMatchObject({ ok: false, reason: 'kid_unknown' });
    expect(store.snapshot(issuerB).kids).toEqual(['key-b']);
  });
});

describe('KeyStore: waiting no longer than the caller can', () => {
  it('denies with idp_unavailable inside a 300 ms deadline when the JWKS endpoint hangs', async () => {
    // Arrange
    server.on('/jwks', { kind: 'hang' });
    const { store } = storeWith();
    const started = performance.now();

    // Act
    const result = await store.getKey(lookup(pinned(), 'key-a', 'RS256', 300));

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'idp_unavailable', cacheState: 'unavailable' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('denies with idp_unavailable inside a 300 ms deadline when the body trickles', async () => {
    // Arrange
    server.on('/jwks', { kind: 'trickle', body: JSON.stringify(jwksOf(keyA)), intervalMs: 20 });
    const { store } = storeWith();
    const started = performance.now();

    // Act
    const result = await store.getKey(lookup(pinned(), 'key-a', 'RS256', 300));

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'idp_unavailable' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('bounds the wait by the caller deadline even when a prefetch started the fetch with a longer timeout', async () => {
    // Arrange
    server.on('/jwks', { kind: 'hang' });
    const { store } = storeWith({ fetchTimeoutMs: 10_000 });
    const issuer = pinned();
    const prefetchSignal = new AbortController();
    const prefetching = store.prefetch([issuer], prefetchSignal.signal);
    const started = performance.now();

    // Act
    const result = await store.getKey(lookup(issuer, 'key-a', 'RS256', 300));

    // Assert
    expect(result).toMatchObject({
      ok: false,
      reason: 'idp_unavailable',
      detail: 'timed out waiting for keys',
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(server.hits('/jwks')).toBe(1);
    prefetchSignal.abort();
    await prefetching;
  });

  it('does not start a fetch when the deadline has no time left beyond the answer reserve', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store } = storeWith({ answerReserveMs: 50 });

    // Act
    const result = await store.getKey(lookup(pinned(), 'key-a', 'RS256', 20));

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'idp_unavailable' });
    expect(server.hits('/jwks')).toBe(0);
  });
});

describe('KeyStore: prefetch, snapshot, clear', () => {
  it('prefetches every issuer in parallel so later lookups need no I/O', async () => {
    // Arrange
    server.on('/a/jwks', { kind: 'json', body: jwksOf(keyA), delayMs: 30 });
    server.on('/b/jwks', { kind: 'json', body: jwksOf(keyB), delayMs: 30 });
    const { store } = storeWith();
    const issuerA = pinned('/a/jwks', '/a');
    const issuerB = pinned('/b/jwks', '/b');

    // Act
    await store.prefetch([issuerA, issuerB], AbortSignal.timeout(5_000));
    const a = await store.getKey(lookup(issuerA, 'key-a'));
    const b = await store.getKey(lookup(issuerB, 'key-b'));

    // Assert
    expect(a).toMatchObject({ ok: true, cacheState: 'fresh' });
    expect(b).toMatchObject({ ok: true, cacheState: 'fresh' });
    expect([server.hits('/a/jwks'), server.hits('/b/jwks')]).toEqual([1, 1]);
  });

  it('lets a lookup join a running prefetch instead of fetching again', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA), delayMs: 50 });
    const { store } = storeWith();
    const issuer = pinned();

    // Act
    const prefetching = store.prefetch([issuer], AbortSignal.timeout(5_000));
    const result = await store.getKey(lookup(issuer, 'key-a'));
    await prefetching;

    // Assert
    expect(result).toMatchObject({ ok: true, cacheState: 'refetched' });
    expect(server.hits('/jwks')).toBe(1);
  });

  it('resolves prefetch when its signal aborts while the IdP hangs, and lets the fetch run to its own limit', async () => {
    // Arrange
    server.on('/jwks', { kind: 'hang' });
    const { store, events } = storeWith({ fetchTimeoutMs: 300 });
    const started = performance.now();

    // Act
    await store.prefetch([pinned()], AbortSignal.timeout(100));
    const afterPrefetch = events.length;

    // Assert
    expect(performance.now() - started).toBeLessThan(1000);
    expect(afterPrefetch).toBe(0);
    await expect.poll(() => events.map((e) => e.outcome)).toEqual(['timeout']);
  });

  it('skips issuers whose keys are fresh', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store } = storeWith();
    const issuer = pinned();
    await store.prefetch([issuer], AbortSignal.timeout(5_000));

    // Act
    await store.prefetch([issuer], AbortSignal.timeout(5_000));

    // Assert
    expect(server.hits('/jwks')).toBe(1);
  });

  it('reports an empty snapshot before any fetch and the keys, age and error after', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA, keyB) });
    const { store, clock } = storeWith();
    const issuer = pinned();
    const before = store.snapshot(issuer);
    await store.getKey(lookup(issuer, 'key-a'));
    server.on('/jwks', { kind: 'status', status: 503 });
    clock.advance(601_000);
    await store.getKey(lookup(issuer, 'key-a'));
    await store.idle();

    // Act
    const after = store.snapshot(issuer);

    // Assert
    expect(before).toEqual({ jwksUri: issuer.jwksUri, kids: [] });
    expect(after).toEqual({
      jwksUri: issuer.jwksUri,
      kids: ['key-a', 'key-b'],
      ageMs: 601_000,
      lastError: 'jwks: HTTP 503',
      dropped: [],
    });
  });

  it('forgets every key on clear', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const { store } = storeWith();
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));

    // Act
    store.clear();
    const result = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(result).toMatchObject({ ok: true, cacheState: 'refetched' });
    expect(server.hits('/jwks')).toBe(2);
  });
});

describe('KeyStore: a slow but healthy IdP', () => {
  it('keeps a fetch running past the init wait, lets the first request join it, and starts no backoff', async () => {
    // Arrange: the JWKS answers after 500 ms; init waits 100 ms.
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA), delayMs: 500 });
    const { store, events } = storeWith();
    const issuer = pinned();
    await store.prefetch([issuer], AbortSignal.timeout(100));

    // Act: the first request joins the fetch still in flight.
    const result = await store.getKey(lookup(issuer, 'key-a', 'RS256', 800));

    // Assert
    expect(result).toMatchObject({ ok: true, cacheState: 'refetched' });
    expect(server.hits('/jwks')).toBe(1);
    expect(events.map((event) => event.outcome)).toEqual(['ok']);
  });

  it('does not count a request running out of time as an IdP failure: the next request finds the keys', async () => {
    // Arrange: the JWKS answers after 300 ms; the first request may wait its 150 ms less the answer reserve.
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA), delayMs: 300 });
    const { store, events } = storeWith();
    const issuer = pinned();
    const first = await store.getKey(lookup(issuer, 'key-a', 'RS256', 150));

    // Act
    const second = await store.getKey(lookup(issuer, 'key-a', 'RS256', 800));

    // Assert
    expect(first).toMatchObject({
      ok: false,
      reason: 'idp_unavailable',
      detail: 'timed out waiting for keys',
    });
    expect(second).toMatchObject({ ok: true });
    expect(server.hits('/jwks')).toBe(1);
    expect(events.map((event) => event.outcome)).toEqual(['ok']);
  });

  it('still backs off after a fetch times out at its own limit', async () => {
    // Arrange
    server.on('/jwks', { kind: 'hang' });
    const { store } = storeWith({ fetchTimeoutMs: 200 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a', 'RS256', 800));

    // Act
    const next = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(next).toMatchObject({ ok: false, reason: 'idp_unavailable' });
    expect(next.ok === false && next.detail).toMatch(/^backing off after a failed fetch/);
    expect(server.hits('/jwks')).toBe(1);
  });

  it('starts no backoff when a fetch "timed out" only because the process was frozen', async () => {
    // Arrange: a fetch whose own 200 ms limit fires after the monotonic clock moved 10 s (a Lambda
    // freeze between invocations looks like this on thaw).
    server.on('/jwks', { kind: 'hang' });
    const { store, clock } = storeWith({ fetchTimeoutMs: 200 });
    const issuer = pinned();
    const pending = store.getKey(lookup(issuer, 'key-a', 'RS256', 100));
    clock.advance(10_000);
    await pending;
    await store.idle();
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });

    // Act
    const next = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(next).toMatchObject({ ok: true, cacheState: 'refetched' });
  });
});
