/**
 * The warm configuration cache: reads and validates the source the environment names, and answers each
 * invocation with the config or the reason to deny. Inline and file sources are read once; SSM is
 * refreshed in the background after a TTL, the last good config serving meanwhile. With none, requests
 * fail closed.
 */

import { type MonotonicClock, monotonicClock } from '../kernel/clock.ts';
import { raceSignal } from '../kernel/deadline.ts';
import type { Err, Refusal, Result } from '../kernel/result.ts';
import { contentVersion } from './content-version.ts';
import { type AuthorizerConfig, type ConfigIssue, formatConfigIssues, parseConfigText } from './schema.ts';
import { CONFIG_ENV, type ConfigSource, selectConfigSource } from './select-config-source.ts';
import {
  createSsmParameterReader,
  type SsmParameterReader,
  type SsmReadResult,
} from './ssm-parameter-reader.ts';

export interface LoadedConfig {
  config: AuthorizerConfig;
  /** `ssm:<Parameter.Version>` or `sha256:<12 hex>`; every decision's log line names it. */
  version: string;
  source: 'inline' | 'file' | 'parameter';
}

type ConfigRefusal = Refusal<'config_unavailable' | 'config_invalid'> & { issues?: ConfigIssue[] };

export type ConfigFailure = Err<ConfigRefusal>;

export type ConfigState = Result<{ loaded: LoadedConfig }, ConfigRefusal>;

/**
 * `source` names where the text came from: `environment` (source selection and TTL),
 * `inline`, `file:<path>` or `parameter:<name>`. `keptVersion` is the last good config still served.
 */
export type ConfigEvent =
  | { type: 'config_loaded'; source: string; version: string }
  | { type: 'config_rejected'; source: string; version?: string; issues: ConfigIssue[]; keptVersion?: string }
  | { type: 'config_read_failed'; source: string; detail: string; keptVersion?: string };

export interface ConfigLoaderOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Default: fs/promises readFile as UTF-8 (imported on first use). */
  readFile?: (path: string) => Promise<string>;
  /** Default: createSsmParameterReader() (the SDK is only imported when this source is used). */
  ssm?: SsmParameterReader;
  /** SSM refresh interval. Default: AUTHORIZER_CONFIG_TTL_SECONDS (whole seconds, 60..3600), else 300 s. */
  ttlMs?: number;
  /** With no good config, SSM is not re-read more often than this. Default 1 000 ms. */
  retryBackoffMs?: number;
  now?: MonotonicClock;
  /** Every outcome worth an operator's attention, so the log says exactly what is wrong. */
  onEvent?: (event: ConfigEvent) => void;
}

export interface ConfigLoader {
  /** Never rejects. `signal` bounds the wait for I/O, not the cache: an aborted wait still answers. */
  load(signal: AbortSignal): Promise<ConfigState>;
  /**
   * The answer `load` would give without waiting (a settled inline/file config, or the last good
   * parameter value, whose refresh it starts in the background once past the TTL); undefined when a
   * caller must wait for a read. Lets the hot path skip creating a signal.
   */
  peek(): ConfigState | undefined;
  /** Forgets everything (tests, the CLI); reads still in flight land in the discarded cache. */
  reset(): void;
}

export const TTL_ENV = 'AUTHORIZER_CONFIG_TTL_SECONDS';
export const DEFAULT_TTL_SECONDS = 300;
/** SSM's 40 TPS are shared by the whole account; a TTL under a minute invites throttling. */
export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 3_600;
export const DEFAULT_RETRY_BACKOFF_MS = 1_000;
/**
 * Bound on one SSM read shared by all waiters (two attempts within SSM_CLIENT_DEFAULTS' connect and
 * request timeouts, plus the SDK's retry delay). It is not any caller's deadline: a caller that gives
 * up early must not fail the read for a caller with more time left (init-phase load, then the first
 * request).
 */
const SSM_READ_TIMEOUT_MS = 2_000;

const TIMED_OUT: ConfigFailure = {
  ok: false,
  reason: 'config_unavailable',
  detail: 'timed out reading configuration',
};

type Setup =
  { ok: true; source: ConfigSource; label: string; ttlMs: number } | { ok: false; state: ConfigFailure };

/** One cache generation; reset() starts a new one so late reads cannot write into it. */
interface Cache {
  setup?: Setup;
  /** inline / file: the final answer once read (never set for SSM). */
  settled?: ConfigState;
  /** The single read in flight (file or SSM). */
  inflight?: Promise<ConfigState>;
  /** SSM: the last good config and when it was last confirmed (or a refresh last failed). */
  good?: { loaded: LoadedConfig; checkedAt: number };
  /** SSM with no good config: the last failure and when it happened (for the retry backoff). */
  failure?: { state: ConfigFailure; at: number };
}

export function createConfigLoader(options: ConfigLoaderOptions): ConfigLoader {
  const now = options.now ?? monotonicClock;
  // Loaded on first use: only the file source needs it (one less module on every cold start).
  const readFile =
    options.readFile ??
    ((path: string) => import('node:fs/promises').then((fs) => fs.readFile(path, 'utf8')));
  const retryBackoffMs = options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS;
  let ssm = options.ssm;
  let cache: Cache = {};

  const emit = (event: ConfigEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A failing logger must not turn a good config into a deny.
    }
  };

  const setUp = (): Setup => {
    const selection = selectConfigSource(options.env);
    if (!selection.ok) {
      const { ok, reason, detail } = selection;
      emit({ type: 'config_read_failed', source: 'environment', detail });
      return { ok: false, state: { ok, reason, detail } };
    }
    const { source } = selection;
    const label =
      source.kind === 'inline'
        ? 'inline'
        : source.kind === 'file'
          ? `file:${source.path}`
          : `parameter:${source.name}`;
    if (source.kind !== 'parameter' || options.ttlMs !== undefined) {
      return { ok: true, source, label, ttlMs: options.ttlMs ?? DEFAULT_TTL_SECONDS * 1_000 };
    }
    const ttl = parseTtlSeconds(options.env[TTL_ENV]);
    if (!ttl.ok) {
      emit({ type: 'config_read_failed', source: 'environment', detail: ttl.detail });
      return { ok: false, state: { ok: false, reason: 'config_invalid', detail: ttl.detail } };
    }
    return { ok: true, source, label, ttlMs: ttl.seconds * 1_000 };
  };

  /** Validates text; reports the outcome. The caller decides what a rejection means (LKG or deny). */
  const accept = (
    text: string,
    version: string,
    source: LoadedConfig['source'],
    label: string,
    keptVersion?: string,
  ): ConfigState => {
    const parsed = parseConfigText(text);
    if (parsed.ok) {
      emit({ type: 'config_loaded', source: label, version });
      return { ok: true, loaded: { config: parsed.config, version, source } };
    }
    const { issues } = parsed;
    emit({
      type: 'config_rejected',
      source: label,
      version,
      issues,
      ...(keptVersion === undefined ? {} : { keptVersion }),
    });
    return { ok: false, reason: 'config_invalid', detail: formatConfigIssues(issues), issues };
  };

  const readConfigFile = async (current: Cache, path: string, label: string): Promise<ConfigState> => {
    let state: ConfigState;
    try {
      const text = await readFile(path);
      state = accept(text, contentVersion(text), 'file', label);
    } catch (error) {
      const detail = `could not read ${CONFIG_ENV.file} "${path}": ${errorCode(error)}`;
      emit({ type: 'config_read_failed', source: label, detail });
      state = { ok: false, reason: 'config_unavailable', detail };
    }
    current.settled = state;
    return state;
  };

  const refreshParameter = async (current: Cache, name: string, label: string): Promise<ConfigState> => {
    ssm ??= createSsmParameterReader();
    let result: SsmReadResult;
    try {
      result = await ssm.read(name, AbortSignal.timeout(SSM_READ_TIMEOUT_MS));
    } catch {
      // An injected reader broke its never-rejects contract: still a failed read, still rate-limited.
      result = { ok: false, detail: 'UnknownError' };
    }
    const at = now();
    const good = current.good;

    if (!result.ok) {
      const detail = `could not read SSM parameter "${name}": ${result.detail}`;
      if (good !== undefined) {
        // Keep serving the last good config; try again after a full TTL, not on every request.
        good.checkedAt = at;
        emit({ type: 'config_read_failed', source: label, detail, keptVersion: good.loaded.version });
        return { ok: true, loaded: good.loaded };
      }
      emit({ type: 'config_read_failed', source: label, detail });
      const state: ConfigFailure = { ok: false, reason: 'config_unavailable', detail };
      current.failure = { state, at };
      return state;
    }

    if (good !== undefined && good.loaded.version === result.version) {
      good.checkedAt = at;
      return { ok: true, loaded: good.loaded };
    }
    const state = accept(result.value, result.version, 'parameter', label, good?.loaded.version);
    if (state.ok) {
      current.good = { loaded: state.loaded, checkedAt: at };
      delete current.failure;
      return state;
    }
    if (good !== undefined) {
      // An invalid new version: reject it, keep the last good one until the next TTL.
      good.checkedAt = at;
      return { ok: true, loaded: good.loaded };
    }
    current.failure = { state, at };
    return state;
  };

  const singleFlight = (current: Cache, read: () => Promise<ConfigState>): Promise<ConfigState> => {
    if (current.inflight === undefined) {
      const inflight = read().finally(() => {
        if (current.inflight === inflight) delete current.inflight;
      });
      current.inflight = inflight;
    }
    return current.inflight;
  };

  const load = async (signal: AbortSignal): Promise<ConfigState> => {
    const current = cache;
    current.setup ??= setUp();
    const setup = current.setup;
    if (!setup.ok) return setup.state;
    const { source, label, ttlMs } = setup;

    if (current.settled !== undefined) return current.settled;
    if (source.kind === 'inline') {
      current.settled = accept(source.text, contentVersion(source.text), 'inline', label);
      return current.settled;
    }
    if (source.kind === 'file') {
      return raceSignal(
        singleFlight(current, () => readConfigFile(current, source.path, label)),
        signal,
        () => ({ ...TIMED_OUT }),
      );
    }

    const good = current.good;
    // With a good config in hand nobody waits for SSM: past the TTL it is refreshed in the background.
    if (good !== undefined) return servedWhileRefreshing(current, good, source.name, label, ttlMs);
    if (current.failure !== undefined && now() - current.failure.at < retryBackoffMs) {
      return current.failure.state;
    }
    // No good config yet: this caller waits for the read (bounded by its signal).
    return raceSignal(
      singleFlight(current, () => refreshParameter(current, source.name, label)),
      signal,
      () => (current.good === undefined ? { ...TIMED_OUT } : { ok: true, loaded: current.good.loaded }),
    );
  };

  /**
   * The last good config, at once; past the TTL a refresh starts (single flight) and the next caller
   * gets what it produced. A refresh that fails or brings an invalid version keeps the last good
   * config until the next TTL; a stalled SSM read ends at its own 2 s limit, so it never holds up
   * a request. Lambda may freeze the instance with the read in flight: it then finishes, or
   * fails at its limit, in a later invocation, while the last good config keeps serving.
   */
  const servedWhileRefreshing = (
    current: Cache,
    good: { loaded: LoadedConfig; checkedAt: number },
    name: string,
    label: string,
    ttlMs: number,
  ): ConfigState => {
    if (now() - good.checkedAt >= ttlMs)
      void singleFlight(current, () => refreshParameter(current, name, label));
    return { ok: true, loaded: good.loaded };
  };

  return {
    async load(signal) {
      try {
        return await load(signal);
      } catch {
        // Unreachable by construction; kept so a bug here denies instead of crashing the handler.
        return { ok: false, reason: 'config_unavailable', detail: 'unexpected error loading configuration' };
      }
    },
    peek() {
      const current = cache;
      const setup = current.setup;
      if (setup === undefined) return undefined;
      if (!setup.ok) return setup.state;
      if (current.settled !== undefined) return current.settled;
      const good = current.good;
      if (good === undefined || setup.source.kind !== 'parameter') return undefined;
      return servedWhileRefreshing(current, good, setup.source.name, setup.label, setup.ttlMs);
    },
    reset() {
      cache = {};
    },
  };
}

function parseTtlSeconds(
  value: string | undefined,
): { ok: true; seconds: number } | { ok: false; detail: string } {
  if (value === undefined || value === '') return { ok: true, seconds: DEFAULT_TTL_SECONDS };
  const seconds = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (seconds >= MIN_TTL_SECONDS && seconds <= MAX_TTL_SECONDS) return { ok: true, seconds };
  // A typo in a tuning knob fails loudly like a typo in the config itself.
  return {
    ok: false,
    detail: `${TTL_ENV} must be whole seconds from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS} (got ${JSON.stringify(value.slice(0, 32))})`,
  };
}

/** A Node error code (ENOENT, EACCES) says what is wrong without echoing file contents. */
function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,31}$/.test(code)) return code;
    if (typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(name)) return name;
  }
  return 'UnknownError';
}
