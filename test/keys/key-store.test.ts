/**
 * The warm key cache against a real loopback IdP: pinned and discovered JWKS, every IdP fault that
 * must become a value inside the deadline (hangs, trickles, error statuses, redirects, bad,
 * oversized or empty documents, refused connections), rotation, cooldown, single-flight and
 * per-issuer isolation. Time for cooldowns and TTLs is an injected clock. Row numbers are the cases
 * of the hostile-input catalogue, test/security/catalogue.test.ts.
 */

import { compactVerify } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IssuerConfig } from '../../src/core/config/schema.ts';
import { createDeadline } from '../../src/core/kernel/deadline.ts';
import { createKeyStore, type KeyFetchEvent, type KeyStoreOptions } from '../../src/core/keys/key-store.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { jwksOf, makeKey, signToken, type TestKey } from '../support/keys.ts';

let server: IdpServer;
let keyA: TestKey;
let keyB: TestKey;
let es256: TestKey;
let ed: TestKey;
let weak: TestKey;

beforeAll(async () => {
  [keyA, keyB, es256, ed, weak] = await Promise.all([
    makeKey('RS256', 'key-a'),
    makeKey('RS256', 'key-b'),
    makeKey('ES256', 'key-es'),
    makeKey('EdDSA', 'key-ed'),
    makeKey('RS256', 'key-weak', 1024),
  ]);
});

beforeEach(async () => {
  server = await startIdpServer();
});

afterEach(async () => {
  await server.close();
});

/** A controllable monotonic clock for cooldowns and ages. */
function manualClock(start = 1_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

function issuerConfig(issuer: string, extra: Partial<IssuerConfig> = {}): IssuerConfig {
  return { issuer, audience: 'api://ahi', algorithms: ['RS256'], clockToleranceSeconds: 30, ...extra };
}

/** An issuer whose JWKS is pinned at `${server.url}${path}`. */
const pinned = (path = '/jwks', issuerPath = '/realm') =>
  issuerConfig(`${server.url}${issuerPath}`, { jwksUri: `${server.url}${path}` });

function storeWith(options: KeyStoreOptions = {}) {
  const clock = manualClock();
  const events: KeyFetchEvent[] = [];
  const store = createKeyStore({ now: clock.now, onFetch: (event) => events.push(event), ...options });
  return { store, clock, events };
}

const lookup = (issuer: IssuerConfig, kid: string, alg = 'RS256', budgetMs = 800) => ({
  issuer,
  kid,
  alg,
  deadline: createDeadline(budgetMs),
});

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
      { issuer: issuer.issuer, kind: 'jwks', url: issuer.jwksUri, outcome: 'ok', ms: expect.any(Number) },
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

  it('reuses the discovered jwks_uri for an unknown-kid refetch', async () => {
    // Arrange
    const issuer = issuerConfig(`${server.url}/realms/demo`);
    const discovery = '/realms/demo/.well-known/openid-configuration';
    server.on(discovery, { kind: 'json', body: { issuer: issuer.issuer, jwks_uri: `${server.url}/certs` } });
    server.on('/certs', { kind: 'json', body: jwksOf(keyA) });
    const { store, clock } = storeWith();
    await store.getKey(lookup(issuer, 'key-a'));
    server.on('/certs', { kind: 'json', body: jwksOf(keyA, keyB) });
    clock.advance(31_000);

    // Act
    const result = await store.getKey(lookup(issuer, 'key-b'));

    // Assert
    expect(result).toMatchObject({ ok: true, cacheState: 'refetched' });
    expect(server.hits(discovery)).toBe(1);
    expect(server.hits('/certs')).toBe(2);
  });

  it('denies with idp_unavailable and never fetches the JWKS when the discovery issuer differs', async () => {
    // Arrange
    const issuer = issuerConfig(`${server.url}/realms/demo`);
    server.on('/realms/demo/.well-known/openid-configuration', {
      kind: 'json',
      body: { issuer: `${issuer.issuer}/`, jwks_uri: `${server.url}/certs` },
    });
    server.on('/certs', { kind: 'json', body: jwksOf(keyA) });
    const { store, events } = storeWith();

    // Act
    const result = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'idp_unavailable', cacheState: 'unavailable' });
    expect(events.map((e) => e.outcome)).toEqual(['issuer_mismatch']);
    expect(server.hits('/certs')).toBe(0);
  });

  it('denies with idp_unavailable when discovery names an http jwks_uri on a non-loopback host', async () => {
    // Arrange
    const issuer = issuerConfig(`${server.url}/realms/demo`);
    server.on('/realms/demo/.well-known/openid-configuration', {
      kind: 'json',
      body: { issuer: issuer.issuer, jwks_uri: 'http://idp.example.org/certs' },
    });
    const { store, events } = storeWith();

    // Act
    const result = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'idp_unavailable' });
    expect(events.map((e) => [e.kind, e.outcome])).toEqual([['discovery', 'invalid']]);
  });

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
    if (!ec.ok || !ed25519.ok) return;
    await expect(compactVerify(await signToken(es256, {}), ec.key)).resolves.toBeDefined();
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

describe('KeyStore: IdP failures', () => {
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

  it.each<[string, Parameters<IdpServer['on']>[1], string]>([
    ['a 503', { kind: 'status', status: 503, body: 'down' }, 'status'],
    ['a redirect', { kind: 'redirect', location: '/elsewhere' }, 'redirect'],
    ['an HTML page', { kind: 'raw', body: '<html>login</html>', contentType: 'text/html' }, 'invalid'],
    ['malformed JSON', { kind: 'raw', body: '{"keys":[{"kty":' }, 'invalid'],
    ['keys that is not an array', { kind: 'json', body: { keys: 'none' } }, 'invalid'],
    ['keys: []', { kind: 'json', body: { keys: [] } }, 'no_usable_keys'],
    ['a 5 MB body', { kind: 'raw', body: Buffer.alloc(5 * 1024 * 1024, 0x20) }, 'too_large'],
  ])(
    'denies with idp_unavailable on %s with nothing cached and reports the cause',
    async (_what, behaviour, cause) => {
      // Arrange
      server.on('/jwks', behaviour);
      server.on('/elsewhere', { kind: 'json', body: jwksOf(keyA) });
      const { store, events } = storeWith();

      // Act
      const result = await store.getKey(lookup(pinned(), 'key-a'));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'idp_unavailable', cacheState: 'unavailable' });
      expect(events.map((e) => e.outcome)).toEqual([cause]);
      expect(server.hits('/elsewhere')).toBe(0);
    },
  );

  it('keeps no response body in the detail or the snapshot', async () => {
    // Arrange
    server.on('/jwks', { kind: 'raw', body: '<html>secret-marker</html>', status: 500 });
    const { store } = storeWith();
    const issuer = pinned();

    // Act
    const result = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(JSON.stringify(result)).not.toContain('secret-marker');
    expect(store.snapshot(issuer).lastError).toBe('jwks: HTTP 500');
  });

  it('denies with idp_unavailable when the connection is refused', async () => {
    // Arrange
    const issuer = pinned();
    await server.close();
    server = await startIdpServer(); // a different port; afterEach closes it
    const { store, events } = storeWith();

    // Act
    const result = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'idp_unavailable' });
    expect(events.map((e) => e.outcome)).toEqual(['network']);
  });

  it('answers idp_unavailable without I/O during the failure backoff, then tries again', async () => {
    // Arrange
    server.on('/jwks', { kind: 'status', status: 503 });
    const { store, clock } = storeWith({ failureBackoffMs: 1_000 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));

    // Act
    clock.advance(500);
    const during = await store.getKey(lookup(issuer, 'key-a'));
    const hitsDuring = server.hits('/jwks');
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    clock.advance(600);
    const after = await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(during).toMatchObject({ ok: false, reason: 'idp_unavailable' });
    expect(hitsDuring).toBe(1);
    expect(after).toMatchObject({ ok: true, cacheState: 'refetched' });
    expect(server.hits('/jwks')).toBe(2);
  });

  it('honours Retry-After on a 429 as the backoff floor', async () => {
    // Arrange
    server.on('/jwks', { kind: 'status', status: 429, headers: { 'retry-after': '5' } });
    const { store, clock } = storeWith({ failureBackoffMs: 1_000 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));

    // Act
    clock.advance(4_000);
    await store.getKey(lookup(issuer, 'key-a'));
    const hitsWithinRetryAfter = server.hits('/jwks');
    clock.advance(1_500);
    await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(hitsWithinRetryAfter).toBe(1);
    expect(server.hits('/jwks')).toBe(2);
  });

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

  it('keeps working when the onFetch listener throws', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    const store = createKeyStore({
      onFetch: () => {
        throw new Error('metrics down');
      },
    });

    // Act
    const result = await store.getKey(lookup(pinned(), 'key-a'));

    // Assert
    expect(result.ok).toBe(true);
  });
});

describe('KeyStore: rotation and refetch limits', () => {
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

  it('shares one fetch between concurrent lookups on a cold cache (single-flight)', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA, keyB), delayMs: 50 });
    const { store } = storeWith();
    const issuer = pinned();

    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.getKey(lookup(issuer, i % 2 === 0 ? 'key-a' : 'key-b'))),
    );

    // Assert
    expect(results.every((r) => r.ok)).toBe(true);
    expect(server.hits('/jwks')).toBe(1);
  });

  it('shares one fetch between concurrent unknown-kid lookups on a cold cache', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA), delayMs: 50 });
    const { store } = storeWith();
    const issuer = pinned();

    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.getKey(lookup(issuer, `unknown-${i}`))),
    );

    // Assert
    expect(results.every((r) => !r.ok && r.reason === 'kid_unknown')).toBe(true);
    expect(server.hits('/jwks')).toBe(1);
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

describe('KeyStore: refresh without charging the request, backoff growth', () => {
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

  it('doubles the backoff after each consecutive failure, from 1 s up to 30 s', async () => {
    // Arrange
    server.on('/jwks', { kind: 'status', status: 503 });
    const { store, clock } = storeWith({ failureBackoffMs: 1_000, maxFailureBackoffMs: 30_000 });
    const issuer = pinned();
    const hitsAfter = async (advanceMs: number) => {
      clock.advance(advanceMs);
      await store.getKey(lookup(issuer, 'key-a'));
      return server.hits('/jwks');
    };

    // Act: failures at t=0, 1, 3, 7, 15, 31 s; then the cap holds the gap at 30 s.
    const observed = [
      await hitsAfter(0), // 1st failure → 1 s
      await hitsAfter(999), // inside 1 s: no fetch
      await hitsAfter(1), // 2nd failure → 2 s
      await hitsAfter(1_999), // inside 2 s: no fetch
      await hitsAfter(1), // 3rd → 4 s
      await hitsAfter(4_000), // 4th → 8 s
      await hitsAfter(8_000), // 5th → 16 s
      await hitsAfter(16_000), // 6th → 32 s capped to 30 s
      await hitsAfter(29_999), // inside 30 s: no fetch
      await hitsAfter(1), // 7th
    ];

    // Assert
    expect(observed).toEqual([1, 1, 2, 2, 3, 4, 5, 6, 6, 7]);
  });

  it('resets the backoff to its floor after a good fetch', async () => {
    // Arrange: two failures (backoff 2 s), then a success, then a failure (backoff back to 1 s).
    const { store, clock } = storeWith({ failureBackoffMs: 1_000, softTtlMs: 1, refetchCooldownMs: 0 });
    const issuer = pinned();
    server.on('/jwks', { kind: 'status', status: 503 });
    await store.getKey(lookup(issuer, 'key-a'));
    clock.advance(1_000);
    await store.getKey(lookup(issuer, 'key-a'));
    clock.advance(2_000);
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    expect(await store.getKey(lookup(issuer, 'key-a'))).toMatchObject({ ok: true });
    server.on('/jwks', { kind: 'status', status: 503 });
    clock.advance(10);
    await store.getKey(lookup(issuer, 'key-a')); // starts a background refresh that fails
    await store.idle();
    const hitsAfterFailure = server.hits('/jwks');

    // Act
    clock.advance(1_000);
    await store.getKey(lookup(issuer, 'key-a'));
    await store.idle();

    // Assert
    expect(server.hits('/jwks')).toBe(hitsAfterFailure + 1);
  });

  it('caps a hostile Retry-After at 60 s', async () => {
    // Arrange
    server.on('/jwks', { kind: 'status', status: 429, headers: { 'retry-after': '86400' } });
    const { store, clock } = storeWith({ failureBackoffMs: 1_000 });
    const issuer = pinned();
    await store.getKey(lookup(issuer, 'key-a'));

    // Act
    clock.advance(59_999);
    await store.getKey(lookup(issuer, 'key-a'));
    const withinCap = server.hits('/jwks');
    clock.advance(1);
    await store.getKey(lookup(issuer, 'key-a'));

    // Assert
    expect(withinCap).toBe(1);
    expect(server.hits('/jwks')).toBe(2);
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
    // Arrange: the JWKS answers after 300 ms; the first request can only wait about 100 ms.
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
