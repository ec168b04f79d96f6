/**
 * The warm key cache: verification keys per configured issuer, fetched from the pinned `jwksUri` or
 * via discovery, and the only module state of the keys layer. It lives in the object
 * `createKeyStore` returns:
 * - key: issuer + pinned jwksUri (a config change to the pinned URL starts a new entry); the
 *   discovered jwks_uri is cached in the entry with the keys;
 * - TTL: keys older than `softTtlMs` are still served at once while a refresh runs in the
 *   background (the request that notices does not pay for it); while the IdP fails, the last good
 *   keys keep serving as 'stale' up to `maxStaleMs`, then the issuer is
 *   `idp_unavailable` until a fetch succeeds;
 * - fetches: every fetch runs to its own limit (`fetchTimeoutMs`), never to the deadline of the
 *   request or the init that started it, so a slow but healthy IdP is not a failure: a caller out of
 *   time stops waiting and the next one joins the fetch. Lambda freezes between invocations, so a
 *   fetch may finish (or time out) in a later invocation; a timeout that took far longer than the
 *   limit was a freeze and starts no backoff;
 * - bounds: at most 64 issuer entries (oldest evicted); keys per entry bounded by the body cap;
 *   keys imported (jose `importJWK`, once per key and alg) for the current key set only;
 * - single-flight: one refresh per issuer at a time, shared by concurrent lookups and prefetch;
 *   every caller waits only until its own deadline reserve, so no IdP can make it late.
 * - trust: https fetches verify the IdP's certificate against Node's default CAs, plus a private
 *   CA bundle when `caBundle` is given (src/core/keys/tls-trust.ts); a TLS failure is fetch outcome `tls`
 *   with its cause (src/core/keys/tls-failure.ts).
 * Network I/O is rate limited: an unknown kid refetches at most once per issuer per cooldown
 * (row 33 of test/security/catalogue.test.ts), and after a failure nothing is fetched for a backoff
 * that doubles from `failureBackoffMs` to `maxFailureBackoffMs` with consecutive failures (Envoy's
 * 1 s floor), never shorter than a capped Retry-After.
 */

import { type CryptoKey, importJWK, type JWK } from 'jose';
import { type MonotonicClock, monotonicClock } from '../kernel/clock.ts';
import type { IssuerConfig } from '../config/schema.ts';
import type { CaBundle } from './ca-bundle.ts';
import { type Deadline, raceSignal } from '../kernel/deadline.ts';
import { discoveryUrl, parseDiscovery } from './discovery.ts';
import {
  DEFAULT_MAX_BODY_BYTES,
  type FetchFailureCause,
  type FetchOutcome,
  fetchJson,
} from './fetch-json.ts';
import { type DroppedKey, type JwksKey, keyFitsAlg, parseJwks } from './parse-jwks.ts';
import type { TlsFailureCause } from './tls-failure.ts';

/**
 * 'fresh': served from cache within the soft TTL, no I/O; 'refetched': this lookup waited for a
 * fetch that produced the keys used (cold start, TTL refresh or unknown-kid refetch); 'stale': last
 * good keys served because a refresh failed, timed out or is backing off; 'unavailable': no keys.
 */
export type KeyCacheState = 'fresh' | 'stale' | 'refetched' | 'unavailable';

export interface KeyFetchEvent {
  issuer: string;
  kind: 'discovery' | 'jwks';
  url: string;
  outcome: 'ok' | FetchFailureCause | 'issuer_mismatch' | 'no_usable_keys';
  /** With outcome `tls`: what failed and Node's error code. */
  tlsCause?: TlsFailureCause;
  tlsCode?: string;
  ms: number;
}

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
  /** Cap for one fetch; default 2_000 (also bounded by the caller's deadline). */
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

export type KeyLookupResult =
  | {
      ok: true;
      /** Imported by jose once per key and alg, and cached with the key set. */
      key: CryptoKey;
      cacheState: KeyCacheState;
      keysAgeMs: number;
      /** The key set this key came from (see KeyStore.keySetGeneration). */
      keySetGeneration: number;
    }
  | {
      ok: false;
      reason: 'kid_unknown' | 'jwks_ambiguous_key' | 'idp_unavailable';
      detail: string;
      cacheState: KeyCacheState;
      keysAgeMs?: number;
    };

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

const MAX_ENTRIES = 64;
/** Retry-After is honoured as the backoff floor, capped so a hostile header cannot park us. */
const MAX_RETRY_AFTER_MS = 60_000;
const WAIT_TIMED_OUT = 'timed out waiting for keys';

interface KeySet {
  readonly keys: readonly JwksKey[];
  readonly byKid: ReadonlyMap<string, readonly JwksKey[]>;
  readonly dropped: readonly DroppedKey[];
  readonly fetchedAt: number;
  readonly generation: number;
  /** Imports (per key, per alg) are cached with the set, so a replaced set drops them too. */
  readonly imported: Map<JwksKey, Map<string, Imported>>;
}

interface Entry {
  readonly issuer: string;
  readonly pinnedJwksUri: string | undefined;
  discovered?: { jwksUri: string; at: number };
  keySet?: KeySet;
  lastAttemptAt?: number;
  backoffUntil?: number;
  consecutiveFailures?: number;
  lastError?: string;
  inflight?: Promise<RefreshResult>;
}

type RefreshResult = { ok: true } | { ok: false; detail: string };
/** An import in flight or done; `key` is set once it succeeded (null: WebCrypto refused the key). */
interface Imported {
  readonly promise: Promise<CryptoKey | undefined>;
  key?: CryptoKey | null;
}
type Selection =
  | { kind: 'key'; key: JwksKey; alg: string }
  | { kind: 'missing' }
  | { kind: 'ambiguous' }
  | { kind: 'misfit' };

export function createKeyStore(options: KeyStoreOptions = {}): KeyStore {
  const now = options.now ?? monotonicClock;
  const refetchCooldownMs = options.refetchCooldownMs ?? 30_000;
  const softTtlMs = options.softTtlMs ?? 300_000;
  const maxStaleMs = Math.max(options.maxStaleMs ?? 3_600_000, softTtlMs);
  const failureBackoffMs = options.failureBackoffMs ?? 1_000;
  const maxFailureBackoffMs = Math.max(options.maxFailureBackoffMs ?? 30_000, failureBackoffMs);
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 2_000;
  const answerReserveMs = options.answerReserveMs ?? 50;
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const fetchImpl = options.fetch;
  const caBundle = options.caBundle;

  const entries = new Map<string, Entry>();
  let generations = 0;

  const entryId = (issuer: IssuerConfig) => `${issuer.issuer}\n${issuer.jwksUri ?? ''}`;

  function entryFor(issuer: IssuerConfig): Entry {
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
  }

  /** The cached set if it is still within the max-staleness bound. */
  function usableSet(entry: Entry): KeySet | undefined {
    const set = entry.keySet;
    return set !== undefined && now() - set.fetchedAt <= maxStaleMs ? set : undefined;
  }

  /** Whether a new fetch may start now (joining a running one is always allowed: it costs no I/O). */
  function mayFetch(entry: Entry): boolean {
    const at = now();
    if (entry.backoffUntil !== undefined && at < entry.backoffUntil) return false;
    // With keys in hand, any refetch waits out the cooldown since the last attempt (row 33).
    if (usableSet(entry) !== undefined && entry.lastAttemptAt !== undefined) {
      return at - entry.lastAttemptAt >= refetchCooldownMs;
    }
    return true;
  }

  function emit(event: KeyFetchEvent): void {
    try {
      options.onFetch?.(event);
    } catch {
      // A metrics listener must never break key lookup.
    }
  }

  /**
   * Starts (or joins) the issuer's one refresh. A fetch is bounded by its own limit, never by the
   * deadline of whoever started it: a caller out of time stops waiting, the fetch goes on, and the
   * next caller joins it. So a slow but healthy IdP is never counted as failing.
   */
  function refresh(entry: Entry): Promise<RefreshResult> {
    if (entry.inflight) return entry.inflight;
    entry.lastAttemptAt = now();
    const running: Promise<RefreshResult> = runRefresh(entry)
      .catch((): RefreshResult => ({ ok: false, detail: 'unexpected error while refreshing keys' }))
      .finally(() => {
        if (entry.inflight === running) delete entry.inflight;
      });
    entry.inflight = running;
    return running;
  }

  function failed(entry: Entry, detail: string, retryAfterSeconds?: number): RefreshResult {
    const retryAfterMs = Math.min((retryAfterSeconds ?? 0) * 1000, MAX_RETRY_AFTER_MS);
    const failures = (entry.consecutiveFailures ?? 0) + 1;
    entry.consecutiveFailures = failures;
    const exponential = Math.min(failureBackoffMs * 2 ** Math.min(failures - 1, 30), maxFailureBackoffMs);
    entry.lastError = detail;
    entry.backoffUntil = now() + Math.max(exponential, retryAfterMs);
    return { ok: false, detail };
  }

  /**
   * A fetch that hit its own time limit is a failure, unless far more time passed than the limit:
   * then the process was frozen (Lambda freezes an instance between invocations, and the timer fires
   * on thaw), which says nothing about the IdP. That attempt is dropped without a backoff.
   */
  const fetchWithinLimit = async (url: string) => {
    const startedAt = now();
    const outcome = await fetchJson(url, {
      signal: AbortSignal.timeout(fetchTimeoutMs),
      maxBytes,
      ...fetchOption(),
      ...(caBundle === undefined ? {} : { caBundle }),
    });
    const interruptedByFreeze =
      !outcome.ok && outcome.cause === 'timeout' && now() - startedAt > 2 * fetchTimeoutMs;
    return { outcome, interruptedByFreeze };
  };

  async function runRefresh(entry: Entry): Promise<RefreshResult> {
    let jwksUri = entry.pinnedJwksUri;
    if (jwksUri === undefined) {
      // The discovered jwks_uri shares the keys' soft TTL, so an unknown-kid refetch costs one request.
      const cached = entry.discovered;
      if (cached !== undefined && now() - cached.at <= softTtlMs) {
        jwksUri = cached.jwksUri;
      } else {
        const url = discoveryUrl(entry.issuer);
        const { outcome, interruptedByFreeze } = await fetchWithinLimit(url);
        if (!outcome.ok) {
          emit(failedFetch(entry.issuer, 'discovery', url, outcome));
          if (interruptedByFreeze) return { ok: false, detail: 'discovery: interrupted' };
          return failed(entry, `discovery: ${outcome.detail}`, outcome.retryAfterSeconds);
        }
        const parsed = parseDiscovery(outcome.value, entry.issuer);
        emit({
          issuer: entry.issuer,
          kind: 'discovery',
          url,
          outcome: parsed.ok ? 'ok' : parsed.cause,
          ms: outcome.ms,
        });
        if (!parsed.ok) return failed(entry, `discovery: ${parsed.detail}`);
        entry.discovered = { jwksUri: parsed.jwksUri, at: now() };
        jwksUri = parsed.jwksUri;
      }
    }

    const { outcome, interruptedByFreeze } = await fetchWithinLimit(jwksUri);
    if (!outcome.ok) {
      emit(failedFetch(entry.issuer, 'jwks', jwksUri, outcome));
      if (interruptedByFreeze) return { ok: false, detail: 'jwks: interrupted' };
      return failed(entry, `jwks: ${outcome.detail}`, outcome.retryAfterSeconds);
    }
    const parsed = parseJwks(outcome.value);
    emit({
      issuer: entry.issuer,
      kind: 'jwks',
      url: jwksUri,
      outcome: parsed.ok ? 'ok' : parsed.cause,
      ms: outcome.ms,
    });
    if (!parsed.ok) return failed(entry, `jwks: ${parsed.detail}`);

    // A good fetch replaces the whole set: a key the IdP removed stops being trusted.
    generations += 1;
    entry.keySet = buildKeySet(parsed.keys, parsed.dropped, now(), generations);
    delete entry.lastError;
    delete entry.backoffUntil;
    delete entry.consecutiveFailures;
    return { ok: true };
  }

  const fetchOption = (): { fetch?: typeof globalThis.fetch } =>
    fetchImpl === undefined ? {} : { fetch: fetchImpl };

  async function lookupKey({ issuer, kid, alg, deadline }: KeyLookup): Promise<KeyLookupResult> {
    const entry = entryFor(issuer);
    /**
     * Starts (or joins) a refresh and waits for it no longer than this caller can afford. With no
     * time left to wait, the refresh still starts: the next caller finds it in flight or done.
     */
    const refreshWithin = (): Promise<RefreshResult> =>
      raceSignal(refresh(entry), deadline.child(answerReserveMs), () => ({
        ok: false,
        detail: WAIT_TIMED_OUT,
      }));
    const unavailable = (detail: string): KeyLookupResult => ({
      ok: false,
      reason: 'idp_unavailable',
      detail,
      cacheState: 'unavailable',
    });

    let set = usableSet(entry);
    let state: KeyCacheState = 'fresh';
    if (set === undefined) {
      // Cold start, or the last good keys are beyond the staleness bound.
      if (!entry.inflight && !mayFetch(entry)) {
        return unavailable(`backing off after a failed fetch (${entry.lastError ?? 'unknown error'})`);
      }
      const result = await refreshWithin();
      set = usableSet(entry);
      if (!result.ok || set === undefined)
        return unavailable(result.ok ? 'no keys after fetch' : result.detail);
      state = 'refetched';
    } else if (now() - set.fetchedAt > softTtlMs) {
      // Serve what we have now; refresh in the background with its own timeout (not this request's).
      if (!entry.inflight && mayFetch(entry)) void refresh(entry);
      state = 'stale';
    }

    const first = select(set, kid, alg);
    if (first.kind !== 'missing' || state === 'refetched') return answer(first, set, state);

    // Unknown kid on cached keys: the IdP may have rotated (OIDC Core §10.1.1) — refetch once,
    // but at most once per cooldown per issuer, so a kid flood cannot hammer the IdP (row 33).
    if (!entry.inflight && !mayFetch(entry)) {
      return answer(first, set, state, 'no key with this kid (refetch suppressed by cooldown)');
    }
    const result = await refreshWithin();
    if (!result.ok) {
      // Keys are cached, so this is kid_unknown (docs/reason-codes.md), not idp_unavailable.
      return answer(first, set, 'stale', `no key with this kid; refetch failed (${result.detail})`);
    }
    const fresh = usableSet(entry) ?? set;
    return answer(select(fresh, kid, alg), fresh, 'refetched');
  }

  async function answer(
    selection: Selection,
    set: KeySet,
    cacheState: KeyCacheState,
    missingDetail = 'no key with this kid',
  ): Promise<KeyLookupResult> {
    const keysAgeMs = Math.max(0, now() - set.fetchedAt);
    const deny = (reason: 'kid_unknown' | 'jwks_ambiguous_key', detail: string): KeyLookupResult => ({
      ok: false,
      reason,
      detail,
      cacheState,
      keysAgeMs,
    });
    switch (selection.kind) {
      case 'missing':
        return deny('kid_unknown', missingDetail);
      case 'ambiguous':
        return deny('jwks_ambiguous_key', 'two or more keys share this kid');
      case 'misfit':
        return deny('kid_unknown', 'the key with this kid does not fit the token alg');
      case 'key': {
        const key = await importFor(set, selection.key, selection.alg);
        if (key === undefined) return deny('kid_unknown', 'the key with this kid could not be imported');
        return { ok: true, key, cacheState, keysAgeMs, keySetGeneration: set.generation };
      }
      default: {
        const unreachable: never = selection;
        return unreachable;
      }
    }
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
        const entry = entryFor(issuer);
        const set = usableSet(entry);
        if (set !== undefined && now() - set.fetchedAt <= softTtlMs) return;
        if (signal.aborted || (!entry.inflight && !mayFetch(entry))) return;
        // Init waits until `signal`; the fetch itself runs to its own limit, so a request joins it.
        await raceSignal<RefreshResult | undefined>(refresh(entry), signal, () => undefined);
      };
      try {
        await Promise.allSettled(issuers.map(one));
      } catch {
        // prefetch is best effort and never rejects.
      }
    },

    snapshot(issuer) {
      const entry = entries.get(entryId(issuer));
      const jwksUri = issuer.jwksUri ?? entry?.discovered?.jwksUri;
      const set = entry?.keySet;
      return {
        ...(jwksUri === undefined ? {} : { jwksUri }),
        kids: set?.keys.map((key) => key.kid) ?? [],
        ...(set === undefined
          ? {}
          : { ageMs: Math.max(0, now() - set.fetchedAt), dropped: [...set.dropped] }),
        ...(entry?.lastError === undefined ? {} : { lastError: entry.lastError }),
      };
    },

    peekKey({ issuer, kid, alg }) {
      const entry = entries.get(entryId(issuer));
      const set = entry === undefined ? undefined : entry.keySet;
      if (set === undefined) return undefined;
      const keysAgeMs = now() - set.fetchedAt;
      if (!(keysAgeMs >= 0 && keysAgeMs <= softTtlMs)) return undefined;
      const selection = select(set, kid, alg);
      if (selection.kind !== 'key') return undefined;
      const key = set.imported.get(selection.key)?.get(alg)?.key;
      if (key === undefined || key === null) return undefined;
      return { ok: true, key, cacheState: 'fresh', keysAgeMs, keySetGeneration: set.generation };
    },

    keySetGeneration(issuer) {
      const entry = entries.get(entryId(issuer));
      return entry === undefined ? undefined : usableSet(entry)?.generation;
    },

    async idle() {
      const running = [...entries.values()].flatMap((entry) => (entry.inflight ? [entry.inflight] : []));
      await Promise.allSettled(running);
    },

    clear() {
      entries.clear();
    },
  };
}

/** The fetch event of a failed fetch, with the TLS cause when there is one. */
function failedFetch(
  issuer: string,
  kind: KeyFetchEvent['kind'],
  url: string,
  outcome: Extract<FetchOutcome, { ok: false }>,
): KeyFetchEvent {
  return {
    issuer,
    kind,
    url,
    outcome: outcome.cause,
    ...(outcome.tlsCause === undefined ? {} : { tlsCause: outcome.tlsCause }),
    ...(outcome.tlsCode === undefined ? {} : { tlsCode: outcome.tlsCode }),
    ms: outcome.ms,
  };
}

function buildKeySet(
  keys: readonly JwksKey[],
  dropped: readonly DroppedKey[],
  fetchedAt: number,
  generation: number,
): KeySet {
  const byKid = new Map<string, JwksKey[]>();
  for (const key of keys) {
    const list = byKid.get(key.kid);
    if (list) list.push(key);
    else byKid.set(key.kid, [key]);
  }
  return { keys, byKid, dropped, fetchedAt, generation, imported: new Map() };
}

/** Exact kid lookup; a duplicated kid is ambiguous and its candidates are never tried (row 34). */
function select(set: KeySet, kid: string, alg: string): Selection {
  const candidates = set.byKid.get(kid);
  if (candidates === undefined || candidates.length === 0) return { kind: 'missing' };
  const [only, ...rest] = candidates;
  if (only === undefined || rest.length > 0) return { kind: 'ambiguous' };
  return keyFitsAlg(only, alg) ? { kind: 'key', key: only, alg } : { kind: 'misfit' };
}

/**
 * The public key as a WebCrypto CryptoKey for this alg (what jose verifies with), imported by jose
 * once per key and alg and cached with the key set: never per request. parse-jwks already kept public
 * members only and checked sizes and curves; WebCrypto validates the rest (an EC point off its curve,
 * say). A key it refuses is remembered as unusable.
 */
function importFor(set: KeySet, key: JwksKey, alg: string): Promise<CryptoKey | undefined> {
  let byAlg = set.imported.get(key);
  if (byAlg === undefined) {
    byAlg = new Map();
    set.imported.set(key, byAlg);
  }
  let imported = byAlg.get(alg);
  if (imported === undefined) {
    const promise = importJWK(key.jwk as JWK, alg).then(
      (result) => {
        const usable = result instanceof Uint8Array || result.type !== 'public' ? undefined : result;
        entry.key = usable ?? null;
        return usable;
      },
      () => {
        entry.key = null;
        return undefined;
      },
    );
    const entry: Imported = { promise };
    imported = entry;
    byAlg.set(alg, entry);
  }
  return imported.promise;
}
