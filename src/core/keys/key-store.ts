/**
 * The warm key store: verification keys per configured issuer, the keys layer's only module state. It
 * composes fetching (jwks-fetcher.ts), caching (key-cache.ts) and selection (key-selection.ts), and
 * decides what a lookup serves and when it waits: never past the caller's deadline reserve, so no IdP
 * can make it late.
 */

import type { CryptoKey } from 'jose';
import type { IssuerConfig } from '../config/schema.ts';
import { type MonotonicClock, monotonicClock } from '../kernel/clock.ts';
import { type Deadline, raceSignal } from '../kernel/deadline.ts';
import type { Refusal, Result } from '../kernel/result.ts';
import type { CaBundle } from './ca-bundle.ts';
import { DEFAULT_MAX_BODY_BYTES } from './fetch-json.ts';
import { createJwksFetcher, type KeyFetchEvent, type RefreshResult } from './jwks-fetcher.ts';
import { createKeyCache, type Entry } from './key-cache.ts';
import { type KeySet, keyFor, peekedKey, type Selection, selectKey } from './key-selection.ts';
import type { DroppedKey } from './parse-jwks.ts';

export type { KeyFetchEvent } from './jwks-fetcher.ts';

/**
 * 'fresh': served from cache within the soft TTL, no I/O; 'refetched': this lookup waited for a
 * fetch that produced the keys used (cold start, TTL refresh or unknown-kid refetch); 'stale': last
 * good keys served because a refresh failed, timed out or is backing off; 'unavailable': no keys.
 */
export type KeyCacheState = 'fresh' | 'stale' | 'refetched' | 'unavailable';

export interface KeyStoreOptions {
  fetch?: typeof globalThis.fetch;
  /** Trusted for https in addition to Node's default CAs (an on-premises IdP's private CA). */
  caBundle?: CaBundle;
  /** For cooldowns and ages; default monotonicClock. */
  now?: MonotonicClock;
  /** Unknown-kid refetch at most once per issuer per this; default 30_000. */
  refetchCooldownMs?: number;
  /** Keys older than this are refreshed in the background on use; default 300_000. */
  softTtlMs?: number;
  /** Last good keys are never served older than this (the staleness bound); default 3_600_000. */
  maxStaleMs?: number;
  /** First backoff after a failed fetch (no I/O meanwhile; idp_unavailable if nothing is cached); default 1_000. */
  failureBackoffMs?: number;
  /** The backoff doubles per consecutive failure up to this; default 30_000. */
  maxFailureBackoffMs?: number;
  /** Cap for one fetch, its own timeout (the caller's deadline bounds only its wait); default 2_000. */
  fetchTimeoutMs?: number;
  /** Time left for the caller to answer; default 50. */
  answerReserveMs?: number;
  /** Default 131072. */
  maxBodyBytes?: number;
  onFetch?: (event: KeyFetchEvent) => void;
}

export interface KeyLookup {
  issuer: IssuerConfig;
  kid: string;
  alg: string;
  deadline: Deadline;
}

export type KeyLookupResult = Result<
  {
    /** Imported by jose once per key and alg, and cached with the key set. */
    key: CryptoKey;
    cacheState: KeyCacheState;
    keysAgeMs: number;
    /** The key set this key came from (see KeyStore.keySetGeneration). */
    keySetGeneration: number;
  },
  Refusal<'kid_unknown' | 'jwks_ambiguous_key' | 'idp_unavailable'> & {
    cacheState: KeyCacheState;
    keysAgeMs?: number;
  }
>;

export interface KeySnapshot {
  jwksUri?: string;
  kids: string[];
  ageMs?: number;
  lastError?: string;
  /** Keys the last good JWKS published but we refuse to use, with why (for `check`). */
  dropped?: DroppedKey[];
}

export interface KeyStore {
  /** Never rejects. */
  getKey(lookup: KeyLookup): Promise<KeyLookupResult>;
  /**
   * The answer getKey would give at once, without I/O or waiting, when the key set is fresh and the
   * key already imported; undefined otherwise (then getKey decides). Lets a warm lookup skip the
   * promise chain.
   */
  peekKey(lookup: Omit<KeyLookup, 'deadline'>): Extract<KeyLookupResult, { ok: true }> | undefined;
  /**
   * Starts fetching missing or expired key sets in parallel and waits for them until `signal` aborts;
   * fetches still running then go on (getKey joins them). Never rejects.
   */
  prefetch(issuers: readonly IssuerConfig[], signal: AbortSignal): Promise<void>;
  /** For the CLI; no I/O. */
  snapshot(issuer: IssuerConfig): KeySnapshot;
  /**
   * Identifies the issuer's current usable key set (changes whenever a fetch replaces it);
   * undefined when no usable set exists. Caches of verified tokens bind to it. No I/O.
   */
  keySetGeneration(issuer: IssuerConfig): number | undefined;
  /** Resolves when no refresh is in flight (a background refresh included); never rejects. */
  idle(): Promise<void>;
  clear(): void;
}

const WAIT_TIMED_OUT = 'timed out waiting for keys';

export function createKeyStore(options: KeyStoreOptions = {}): KeyStore {
  const now = options.now ?? monotonicClock;
  const softTtlMs = options.softTtlMs ?? 300_000;
  const failureBackoffMs = options.failureBackoffMs ?? 1_000;
  const answerReserveMs = options.answerReserveMs ?? 50;
  const cache = createKeyCache({
    now,
    softTtlMs,
    maxStaleMs: Math.max(options.maxStaleMs ?? 3_600_000, softTtlMs),
    refetchCooldownMs: options.refetchCooldownMs ?? 30_000,
  });
  const fetcher = createJwksFetcher<Entry>({
    now,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.caBundle === undefined ? {} : { caBundle: options.caBundle }),
    fetchTimeoutMs: options.fetchTimeoutMs ?? 2_000,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    failureBackoffMs,
    maxFailureBackoffMs: Math.max(options.maxFailureBackoffMs ?? 30_000, failureBackoffMs),
    // The discovered jwks_uri shares the keys' soft TTL, so an unknown-kid refetch costs one request.
    discoveryTtlMs: softTtlMs,
    onKeys: (entry, fetched) => cache.install(entry, fetched),
    onFetch: options.onFetch,
  });

  /** Whether a refresh can be joined (one is in flight) or started (no backoff, cooldown over). */
  const canRefresh = (entry: Entry): boolean =>
    entry.inflight !== undefined || (!fetcher.backingOff(entry) && cache.cooldownOver(entry));

  async function lookupKey({ issuer, kid, alg, deadline }: KeyLookup): Promise<KeyLookupResult> {
    const entry = cache.entryFor(issuer);
    /**
     * Starts (or joins) a refresh and waits for it no longer than this caller can afford. With no
     * time left to wait, the refresh still starts: the next caller finds it in flight or done.
     */
    const refreshWithin = (): Promise<RefreshResult> =>
      raceSignal(fetcher.refresh(entry), deadline.child(answerReserveMs), () => ({
        ok: false,
        detail: WAIT_TIMED_OUT,
      }));
    const unavailable = (detail: string): KeyLookupResult => ({
      ok: false,
      reason: 'idp_unavailable',
      detail,
      cacheState: 'unavailable',
    });

    let set = cache.usableSet(entry);
    let state: KeyCacheState = 'fresh';
    if (set === undefined) {
      // Cold start, or the last good keys are beyond the staleness bound.
      if (!canRefresh(entry)) {
        return unavailable(`backing off after a failed fetch (${entry.lastError ?? 'unknown error'})`);
      }
      const result = await refreshWithin();
      set = cache.usableSet(entry);
      if (!result.ok || set === undefined)
        return unavailable(result.ok ? 'no keys after fetch' : result.detail);
      state = 'refetched';
    } else if (!cache.isFresh(cache.ageOf(set))) {
      // Serve what we have now; refresh in the background with its own timeout (not this request's).
      if (canRefresh(entry)) void fetcher.refresh(entry);
      state = 'stale';
    }

    const first = selectKey(set, kid, alg);
    if (first.kind !== 'missing' || state === 'refetched') return answer(first, set, state);

    // Unknown kid on cached keys: the IdP may have rotated (OIDC Core §10.1.1) — refetch once,
    // but at most once per cooldown per issuer, so a kid flood cannot hammer the IdP.
    if (!canRefresh(entry)) {
      return answer(first, set, state, 'no key with this kid (refetch suppressed by cooldown)');
    }
    const result = await refreshWithin();
    if (!result.ok) {
      // Keys are cached, so this is kid_unknown (docs/reason-codes.md), not idp_unavailable.
      return answer(first, set, 'stale', `no key with this kid; refetch failed (${result.detail})`);
    }
    const fresh = cache.usableSet(entry) ?? set;
    return answer(selectKey(fresh, kid, alg), fresh, 'refetched');
  }

  async function answer(
    selection: Selection,
    set: KeySet,
    cacheState: KeyCacheState,
    missingDetail = 'no key with this kid',
  ): Promise<KeyLookupResult> {
    const keysAgeMs = Math.max(0, cache.ageOf(set));
    const found = await keyFor(selection, set, missingDetail);
    if (!found.ok) return { ...found, cacheState, keysAgeMs };
    return { ok: true, key: found.key, cacheState, keysAgeMs, keySetGeneration: set.generation };
  }

  return {
    async getKey(lookup) {
      try {
        return await lookupKey(lookup);
      } catch {
        return {
          ok: false,
          reason: 'idp_unavailable',
          detail: 'unexpected key store error',
          cacheState: 'unavailable',
        };
      }
    },

    async prefetch(issuers, signal) {
      const one = async (issuer: IssuerConfig): Promise<void> => {
        const entry = cache.entryFor(issuer);
        const set = cache.usableSet(entry);
        if (set !== undefined && cache.isFresh(cache.ageOf(set))) return;
        if (signal.aborted || !canRefresh(entry)) return;
        // Init waits until `signal`; the fetch itself runs to its own limit, so a request joins it.
        await raceSignal<RefreshResult | undefined>(fetcher.refresh(entry), signal, () => undefined);
      };
      try {
        await Promise.allSettled(issuers.map(one));
      } catch {
        // prefetch is best effort and never rejects.
      }
    },

    snapshot(issuer) {
      const entry = cache.find(issuer);
      const jwksUri = issuer.jwksUri ?? entry?.discovered?.jwksUri;
      const set = entry?.keySet;
      return {
        ...(jwksUri === undefined ? {} : { jwksUri }),
        kids: set?.keys.map((key) => key.kid) ?? [],
        ...(set === undefined ? {} : { ageMs: Math.max(0, cache.ageOf(set)), dropped: [...set.dropped] }),
        ...(entry?.lastError === undefined ? {} : { lastError: entry.lastError }),
      };
    },

    peekKey({ issuer, kid, alg }) {
      const set = cache.find(issuer)?.keySet;
      if (set === undefined) return undefined;
      const keysAgeMs = cache.ageOf(set);
      if (!(keysAgeMs >= 0 && cache.isFresh(keysAgeMs))) return undefined;
      const key = peekedKey(set, kid, alg);
      if (key === undefined) return undefined;
      return { ok: true, key, cacheState: 'fresh', keysAgeMs, keySetGeneration: set.generation };
    },

    keySetGeneration(issuer) {
      const entry = cache.find(issuer);
      return entry === undefined ? undefined : cache.usableSet(entry)?.generation;
    },

    async idle() {
      const running = [...cache.entries()].flatMap((entry) => (entry.inflight ? [entry.inflight] : []));
      await Promise.allSettled(running);
    },

    clear() {
      cache.clear();
    },
  };
}
