/**
 * The per-issuer entries of the key store and the age rules for their key sets: fresh within the soft
 * TTL, served while refreshed past it, never served past max staleness. With keys in hand, refetches
 * wait out a cooldown, so a flood of unknown kids cannot hammer the IdP (row 33 of
 * test/security/catalogue.test.ts).
 */

import type { IssuerConfig } from '../config/schema.ts';
import type { MonotonicClock } from '../kernel/clock.ts';
import type { FetchedKeys, FetchState } from './jwks-fetcher.ts';
import { buildKeySet, type KeySet } from './key-selection.ts';

/** An issuer's fetch state and its last good key set. */
export interface Entry extends FetchState {
  keySet?: KeySet;
}

export interface KeyCacheOptions {
  now: MonotonicClock;
  /** Sets older than this are stale: served, and refreshed in the background. */
  softTtlMs: number;
  /** Sets older than this are never served (at least softTtlMs). */
  maxStaleMs: number;
  /** With keys in hand, no new fetch sooner than this after the last attempt. */
  refetchCooldownMs: number;
}

export interface KeyCache {
  /** The issuer's entry, made on first use. */
  entryFor(issuer: IssuerConfig): Entry;
  /** The issuer's entry if there is one (never makes one). */
  find(issuer: IssuerConfig): Entry | undefined;
  /** The entry's key set while within the max-staleness bound. */
  usableSet(entry: Entry): KeySet | undefined;
  /** Milliseconds since the set was fetched. */
  ageOf(set: KeySet): number;
  /** Whether a key set of this age is fresh (within the soft TTL). */
  isFresh(ageMs: number): boolean;
  /** With usable keys, whether the refetch cooldown since the last attempt is over; always true without. */
  cooldownOver(entry: Entry): boolean;
  /** Replaces the entry's set with a good fetch's keys, under a new generation. */
  install(entry: Entry, fetched: FetchedKeys): void;
  entries(): IterableIterator<Entry>;
  clear(): void;
}

/** Beyond this many entries the oldest is evicted. */
const MAX_ENTRIES = 64;

export function createKeyCache(options: KeyCacheOptions): KeyCache {
  const { now, softTtlMs, maxStaleMs, refetchCooldownMs } = options;
  const entries = new Map<string, Entry>();
  let generations = 0;

  // Issuer + pinned jwksUri: a config change to the pinned URL starts a new entry.
  const entryId = (issuer: IssuerConfig) => `${issuer.issuer}\n${issuer.jwksUri ?? ''}`;

  const usableSet = (entry: Entry): KeySet | undefined => {
    const set = entry.keySet;
    return set !== undefined && now() - set.fetchedAt <= maxStaleMs ? set : undefined;
  };

  return {
    entryFor(issuer) {
      const id = entryId(issuer);
      const existing = entries.get(id);
      if (existing) return existing;
      if (entries.size >= MAX_ENTRIES) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      const entry: Entry = { issuer: issuer.issuer, pinnedJwksUri: issuer.jwksUri };
      entries.set(id, entry);
      return entry;
    },

    find(issuer) {
      return entries.get(entryId(issuer));
    },

    usableSet,

    ageOf(set) {
      return now() - set.fetchedAt;
    },

    isFresh(ageMs) {
      return ageMs <= softTtlMs;
    },

    cooldownOver(entry) {
      if (usableSet(entry) === undefined || entry.lastAttemptAt === undefined) return true;
      return now() - entry.lastAttemptAt >= refetchCooldownMs;
    },

    install(entry, fetched) {
      // A good fetch replaces the whole set: a key the IdP removed stops being trusted.
      generations += 1;
      entry.keySet = buildKeySet(fetched.keys, fetched.dropped, now(), generations);
    },

    entries() {
      return entries.values();
    },

    clear() {
      entries.clear();
    },
  };
}
