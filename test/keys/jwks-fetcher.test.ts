/**
 * Fetching keys (src/core/keys/jwks-fetcher.ts): discovery, every IdP fault that must become a value
 * with its cause (error statuses, redirects, bad, oversized or empty documents, refused connections),
 * the failure backoff and Retry-After, and one fetch per issuer for all callers. Through the key store,
 * then the fetcher alone.
 */

import { match } from '../support/matchers.ts';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJwksFetcher, type FetchState, type KeyFetchEvent } from '../../src/core/keys/jwks-fetcher.ts';
import { createKeyStore } from '../../src/core/keys/key-store.ts';
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

describe('KeyStore fetching: discovery', () => {
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
});

describe('KeyStore fetching: IdP failures', () => {
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

  it('keeps working when the onFetch listener throws', async () => {
    // Arrange
    server.on('/jwks', { kind: 'json', body: jwksOf(keyA) });
    let calls = 0;
    const store = createKeyStore({
      onFetch: () => {
        calls += 1;
        throw new Error('metrics down');
      },
    });

    // Act
    const result = await store.getKey(lookup(pinned(), 'key-a'));

    // Assert
    expect(result.ok).toBe(true);
    expect(calls, 'the listener was called (and threw)').toBeGreaterThan(0);
  });
});

describe('KeyStore fetching: backoff after a failure', () => {
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

describe('KeyStore fetching: one fetch per issuer', () => {
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

describe('createJwksFetcher', () => {
  const ISSUER = 'https://idp.example.org';
  const JWKS_URI = `${ISSUER}/jwks`;
  const DISCOVERY_URI = `${ISSUER}/.well-known/openid-configuration`;

  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });

  /** A fetcher over an in-memory IdP (`respond` answers each URL) with a manual clock. */
  function fetcherWith(
    respond: (url: string) => Response | Promise<Response>,
    overrides: { fetchTimeoutMs?: number; maxFailureBackoffMs?: number; onKeys?: () => void } = {},
  ) {
    const clock = manualClock();
    const calls: string[] = [];
    const events: KeyFetchEvent[] = [];
    const installed: string[][] = [];
    const fetch = (input: string | URL | Request) => {
      const url = input instanceof Request ? input.url : input.toString();
      calls.push(url);
      return Promise.resolve(respond(url));
    };
    const fetcher = createJwksFetcher<FetchState>({
      now: clock.now,
      fetch,
      fetchTimeoutMs: overrides.fetchTimeoutMs ?? 2_000,
      maxBodyBytes: 131_072,
      failureBackoffMs: 1_000,
      maxFailureBackoffMs: overrides.maxFailureBackoffMs ?? 30_000,
      discoveryTtlMs: 300_000,
      onKeys: overrides.onKeys ?? ((_state, fetched) => installed.push(fetched.keys.map((key) => key.kid))),
      onFetch: (event) => events.push(event),
    });
    return { fetcher, clock, calls, events, installed };
  }

  const pinnedState = (): FetchState => ({ issuer: ISSUER, pinnedJwksUri: JWKS_URI });

  it('fetches the pinned JWKS and hands its keys to onKeys before the caller resumes', async () => {
    // Arrange
    const { fetcher, clock, calls, events, installed } = fetcherWith(() => json(jwksOf(keyA, keyB)));
    const state = pinnedState();

    // Act
    const result = await fetcher.refresh(state);

    // Assert
    expect(result).toEqual({ ok: true });
    expect(installed).toEqual([['key-a', 'key-b']]);
    expect(calls).toEqual([JWKS_URI]);
    expect(events).toEqual([
      { issuer: ISSUER, kind: 'jwks', url: JWKS_URI, outcome: 'ok', ms: match.any(Number) },
    ]);
    expect(state.lastAttemptAt).toBe(clock.now());
    expect(state.inflight).toBeUndefined();
  });

  it('gives every caller that arrives while a fetch runs the same fetch', async () => {
    // Arrange
    let answer: (response: Response) => void = () => undefined;
    const { fetcher, calls, installed } = fetcherWith(
      () => new Promise<Response>((resolve) => (answer = resolve)),
    );
    const state = pinnedState();

    // Act
    const first = fetcher.refresh(state);
    const second = fetcher.refresh(state);
    await Promise.resolve();
    answer(json(jwksOf(keyA)));
    const results = await Promise.all([first, second]);

    // Assert
    expect(second).toBe(first);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    expect(calls).toHaveLength(1);
    expect(installed).toHaveLength(1);
  });

  it('reads discovery once and reuses its jwks_uri until discoveryTtlMs has passed', async () => {
    // Arrange
    const { fetcher, clock, calls } = fetcherWith((url) =>
      url === DISCOVERY_URI ? json({ issuer: ISSUER, jwks_uri: `${ISSUER}/certs` }) : json(jwksOf(keyA)),
    );
    const state: FetchState = { issuer: ISSUER, pinnedJwksUri: undefined };

    // Act
    await fetcher.refresh(state);
    clock.advance(300_000);
    await fetcher.refresh(state);
    const withinTtl = [...calls];
    clock.advance(1);
    await fetcher.refresh(state);

    // Assert
    expect(withinTtl).toEqual([DISCOVERY_URI, `${ISSUER}/certs`, `${ISSUER}/certs`]);
    expect(calls.slice(3)).toEqual([DISCOVERY_URI, `${ISSUER}/certs`]);
  });

  it('backs off after each failure, doubling per consecutive failure up to the cap', async () => {
    // Arrange
    const { fetcher, clock } = fetcherWith(() => json({}, 503), { maxFailureBackoffMs: 4_000 });
    const state = pinnedState();
    const backoffs: number[] = [];

    // Act
    for (let failure = 0; failure < 4; failure += 1) {
      const failedAt = clock.now();
      await fetcher.refresh(state);
      backoffs.push((state.backoffUntil ?? failedAt) - failedAt);
      expect(fetcher.backingOff(state)).toBe(true);
      clock.advance(backoffs.at(-1) ?? 0);
      expect(fetcher.backingOff(state)).toBe(false);
    }

    // Assert
    expect(backoffs).toEqual([1_000, 2_000, 4_000, 4_000]);
    expect(state.lastError).toBe('jwks: HTTP 503');
  });

  it('takes a Retry-After longer than the backoff as its floor, capped at 60 s', async () => {
    // Arrange
    let retryAfter = '5';
    const { fetcher, clock } = fetcherWith(() => json({}, 429, { 'retry-after': retryAfter }));
    const polite = pinnedState();
    const hostile = pinnedState();

    // Act
    await fetcher.refresh(polite);
    retryAfter = '86400';
    await fetcher.refresh(hostile);

    // Assert
    expect((polite.backoffUntil ?? 0) - clock.now()).toBe(5_000);
    expect((hostile.backoffUntil ?? 0) - clock.now()).toBe(60_000);
  });

  it('clears the failure state after a good fetch', async () => {
    // Arrange
    let down = true;
    const { fetcher, clock } = fetcherWith(() => (down ? json({}, 503) : json(jwksOf(keyA))));
    const state = pinnedState();
    await fetcher.refresh(state);
    clock.advance(1_000);
    down = false;

    // Act
    const result = await fetcher.refresh(state);

    // Assert
    expect(result).toEqual({ ok: true });
    expect([state.lastError, state.backoffUntil, state.consecutiveFailures]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('backs off after a fetch times out at its own limit, but not when the process was frozen meanwhile', async () => {
    // Arrange: an IdP that never answers; a 30 ms limit.
    const hang = () => new Promise<Response>(() => undefined);
    const slow = fetcherWith(hang, { fetchTimeoutMs: 30 });
    const frozen = fetcherWith(hang, { fetchTimeoutMs: 30 });
    const slowState = pinnedState();
    const frozenState = pinnedState();

    // Act: the frozen one's monotonic clock jumps 10 s while its fetch waits (a thaw looks like this).
    const slowResult = await slow.fetcher.refresh(slowState);
    const pending = frozen.fetcher.refresh(frozenState);
    frozen.clock.advance(10_000);
    const frozenResult = await pending;

    // Assert
    expect(slowResult).toEqual({ ok: false, detail: 'jwks: timed out' });
    expect(slow.fetcher.backingOff(slowState)).toBe(true);
    expect(frozenResult).toEqual({ ok: false, detail: 'jwks: interrupted' });
    expect(frozen.fetcher.backingOff(frozenState)).toBe(false);
    expect(frozenState.lastError).toBeUndefined();
    expect(frozen.events.map((event) => event.outcome)).toEqual(['timeout']);
  });

  it('never rejects: a failure inside the refresh becomes a failed result', async () => {
    // Arrange
    const { fetcher } = fetcherWith(() => json(jwksOf(keyA)), {
      onKeys: () => {
        throw new Error('cache broke');
      },
    });
    const state = pinnedState();

    // Act
    const result = await fetcher.refresh(state);

    // Assert
    expect(result).toEqual({ ok: false, detail: 'unexpected error while refreshing keys' });
    expect(state.inflight).toBeUndefined();
  });
});
