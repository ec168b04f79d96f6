/**
 * Shared by the key store's tests (test/keys/key-store.test.ts and the tests of its parts): the test
 * keys, a controllable monotonic clock, issuer configs, a store that records its fetch events, and
 * a lookup with its own deadline. Each test file starts its own loopback IdP (test/support/idp-server.ts).
 */

import type { IssuerConfig } from '../../src/core/config/schema.ts';
import { createDeadline } from '../../src/core/kernel/deadline.ts';
import { createKeyStore, type KeyFetchEvent, type KeyStoreOptions } from '../../src/core/keys/key-store.ts';
import { makeKey, type TestKey } from './keys.ts';

export interface KeyStoreTestKeys {
  keyA: TestKey;
  keyB: TestKey;
  es256: TestKey;
  ed: TestKey;
  /** A 1024-bit RSA key, below the minimum a JWKS may publish. */
  weak: TestKey;
}

export async function makeKeyStoreTestKeys(): Promise<KeyStoreTestKeys> {
  const [keyA, keyB, es256, ed, weak] = await Promise.all([
    makeKey('RS256', 'key-a'),
    makeKey('RS256', 'key-b'),
    makeKey('ES256', 'key-es'),
    makeKey('EdDSA', 'key-ed'),
    makeKey('RS256', 'key-weak', 1024),
  ]);
  return { keyA, keyB, es256, ed, weak };
}

/** A controllable monotonic clock for cooldowns and ages. */
export function manualClock(start = 1_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

export function issuerConfig(issuer: string, extra: Partial<IssuerConfig> = {}): IssuerConfig {
  return { issuer, audience: 'api://ahi', algorithms: ['RS256'], clockToleranceSeconds: 30, ...extra };
}

/** An issuer at `${baseUrl}${issuerPath}` whose JWKS is pinned at `${baseUrl}${path}`. */
export const pinnedIssuer = (baseUrl: string, path = '/jwks', issuerPath = '/realm') =>
  issuerConfig(`${baseUrl}${issuerPath}`, { jwksUri: `${baseUrl}${path}` });

export function storeWith(options: KeyStoreOptions = {}) {
  const clock = manualClock();
  const events: KeyFetchEvent[] = [];
  const store = createKeyStore({ now: clock.now, onFetch: (event) => events.push(event), ...options });
  return { store, clock, events };
}

export const lookup = (issuer: IssuerConfig, kid: string, alg = 'RS256', budgetMs = 800) => ({
  issuer,
  kid,
  alg,
  deadline: createDeadline(budgetMs),
});
