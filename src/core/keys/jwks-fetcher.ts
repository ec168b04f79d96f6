/**
 * Fetches one issuer's keys: OpenID discovery unless a jwksUri is pinned, then the JWKS. Each GET runs
 * to the fetcher's own limit, not its starter's deadline, so a slow but healthy IdP is no failure;
 * later callers join the fetch in flight. Failures back off exponentially, never below a capped
 * Retry-After.
 */

import type { MonotonicClock } from '../kernel/clock.ts';
import type { Result } from '../kernel/result.ts';
import type { CaBundle } from './ca-bundle.ts';
import { discoveryUrl, parseDiscovery } from './discovery.ts';
import { type FetchFailureCause, type FetchOutcome, fetchJson } from './fetch-json.ts';
import { type DroppedKey, type JwksKey, parseJwks } from './parse-jwks.ts';
import type { TlsFailureCause } from './tls-failure.ts';

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

/** One issuer's fetch state (the key cache's entry carries it). */
export interface FetchState {
  readonly issuer: string;
  readonly pinnedJwksUri: string | undefined;
  /** The discovered jwks_uri and when it was read. */
  discovered?: { jwksUri: string; at: number };
  /** When the last fetch started (the cache's refetch cooldown counts from it). */
  lastAttemptAt?: number;
  backoffUntil?: number;
  consecutiveFailures?: number;
  lastError?: string;
  /** The one fetch in flight, which every caller joins. */
  inflight?: Promise<RefreshResult>;
}

export type RefreshResult = Result<object, { detail: string }>;

export interface FetchedKeys {
  keys: JwksKey[];
  dropped: DroppedKey[];
}

export interface JwksFetcherOptions<S extends FetchState> {
  now: MonotonicClock;
  fetch?: typeof globalThis.fetch;
  /** Trusted for https in addition to Node's default CAs. */
  caBundle?: CaBundle;
  /** Limit of one GET. */
  fetchTimeoutMs: number;
  maxBodyBytes: number;
  /** First backoff after a failure. */
  failureBackoffMs: number;
  /** The backoff doubles per consecutive failure up to this. */
  maxFailureBackoffMs: number;
  /** How long a discovered jwks_uri is reused before discovery is read again. */
  discoveryTtlMs: number;
  /** Takes the keys of a good fetch, before any caller waiting on it resumes. */
  onKeys: (state: S, fetched: FetchedKeys) => void;
  /** Every fetch, with its TLS cause when it failed in TLS. */
  onFetch?: ((event: KeyFetchEvent) => void) | undefined;
}

export interface JwksFetcher<S extends FetchState> {
  /** Starts the issuer's fetch, or joins the one in flight. Never rejects. */
  refresh(state: S): Promise<RefreshResult>;
  /** Whether a failure backoff forbids starting a fetch now. */
  backingOff(state: FetchState): boolean;
}

/** Retry-After is honoured as the backoff floor, capped so a hostile header cannot park us. */
const MAX_RETRY_AFTER_MS = 60_000;

export function createJwksFetcher<S extends FetchState>(options: JwksFetcherOptions<S>): JwksFetcher<S> {
  const { now, fetchTimeoutMs, failureBackoffMs, maxFailureBackoffMs, discoveryTtlMs, onKeys } = options;
  const fetchOptions = {
    maxBytes: options.maxBodyBytes,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.caBundle === undefined ? {} : { caBundle: options.caBundle }),
  };

  function emit(event: KeyFetchEvent): void {
    try {
      options.onFetch?.(event);
    } catch {
      // A metrics listener must never break key lookup.
    }
  }

  function failed(state: S, detail: string, retryAfterSeconds?: number): RefreshResult {
    const retryAfterMs = Math.min((retryAfterSeconds ?? 0) * 1000, MAX_RETRY_AFTER_MS);
    const failures = (state.consecutiveFailures ?? 0) + 1;
    state.consecutiveFailures = failures;
    const exponential = Math.min(failureBackoffMs * 2 ** Math.min(failures - 1, 30), maxFailureBackoffMs);
    state.lastError = detail;
    state.backoffUntil = now() + Math.max(exponential, retryAfterMs);
    return { ok: false, detail };
  }

  /**
   * A fetch that hit its own time limit is a failure, unless far more time passed than the limit:
   * then the process was frozen (Lambda freezes an instance between invocations, and the timer fires
   * on thaw), which says nothing about the IdP. That attempt is dropped without a backoff.
   */
  const fetchWithinLimit = async (url: string) => {
    const startedAt = now();
    const outcome = await fetchJson(url, { signal: AbortSignal.timeout(fetchTimeoutMs), ...fetchOptions });
    const interruptedByFreeze =
      !outcome.ok && outcome.cause === 'timeout' && now() - startedAt > 2 * fetchTimeoutMs;
    return { outcome, interruptedByFreeze };
  };

  async function fetchKeys(state: S): Promise<RefreshResult> {
    let jwksUri = state.pinnedJwksUri;
    if (jwksUri === undefined) {
      const cached = state.discovered;
      if (cached !== undefined && now() - cached.at <= discoveryTtlMs) {
        jwksUri = cached.jwksUri;
      } else {
        const url = discoveryUrl(state.issuer);
        const { outcome, interruptedByFreeze } = await fetchWithinLimit(url);
        if (!outcome.ok) {
          emit(failedFetch(state.issuer, 'discovery', url, outcome));
          if (interruptedByFreeze) return { ok: false, detail: 'discovery: interrupted' };
          return failed(state, `discovery: ${outcome.detail}`, outcome.retryAfterSeconds);
        }
        const parsed = parseDiscovery(outcome.value, state.issuer);
        emit({
          issuer: state.issuer,
          kind: 'discovery',
          url,
          outcome: parsed.ok ? 'ok' : parsed.cause,
          ms: outcome.ms,
        });
        if (!parsed.ok) return failed(state, `discovery: ${parsed.detail}`);
        state.discovered = { jwksUri: parsed.jwksUri, at: now() };
        jwksUri = parsed.jwksUri;
      }
    }

    const { outcome, interruptedByFreeze } = await fetchWithinLimit(jwksUri);
    if (!outcome.ok) {
      emit(failedFetch(state.issuer, 'jwks', jwksUri, outcome));
      if (interruptedByFreeze) return { ok: false, detail: 'jwks: interrupted' };
      return failed(state, `jwks: ${outcome.detail}`, outcome.retryAfterSeconds);
    }
    const parsed = parseJwks(outcome.value);
    emit({
      issuer: state.issuer,
      kind: 'jwks',
      url: jwksUri,
      outcome: parsed.ok ? 'ok' : parsed.cause,
      ms: outcome.ms,
    });
    if (!parsed.ok) return failed(state, `jwks: ${parsed.detail}`);

    onKeys(state, { keys: parsed.keys, dropped: parsed.dropped });
    delete state.lastError;
    delete state.backoffUntil;
    delete state.consecutiveFailures;
    return { ok: true };
  }

  return {
    refresh(state) {
      if (state.inflight) return state.inflight;
      state.lastAttemptAt = now();
      const running: Promise<RefreshResult> = fetchKeys(state)
        .catch((): RefreshResult => ({ ok: false, detail: 'unexpected error while refreshing keys' }))
        .finally(() => {
          if (state.inflight === running) delete state.inflight;
        });
      state.inflight = running;
      return running;
    },

    backingOff(state) {
      return state.backoffUntil !== undefined && now() < state.backoffUntil;
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
