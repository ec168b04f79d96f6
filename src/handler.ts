/**
 * The Lambda entry point and composition root: builds the warm dependencies once (config loader, key
 * store, verified-token cache, clock, log writer), prefetches keys during init, and wraps
 * `authorize()` in a fail-closed error layer. HealthImaging turns a throw into 424 and anything over
 * 1 s into 408, so this handler never throws and answers inside its own budget (PRODUCT.md §2).
 *
 * No middy: its core statically imports node:stream, node:stream/promises, node:stream/web and
 * node:timers (measured +5 to 8 ms of cold start, `npm run bench`), and the two things we used it for
 * are here already: the last error layer (below) and the timeout backstop (the deadline race in
 * authorize(), which answers long before any Lambda timeout).
 */

import type { Context } from 'aws-lambda';
import { type AuthorizeDeps, authorize } from './authorize.ts';
import { monotonicClock, systemClock } from './clock.ts';
import { createConfigLoader } from './config/config-loader.ts';
import { type AuthResult, DENY_INVALID, toAuthResult } from './contract/healthimaging.ts';
import { createDeadline, raceSignal } from './keys/deadline.ts';
import { createKeyStore } from './keys/key-store.ts';
import { createVerifiedTokenCache } from './token/verified-token-cache.ts';
import {
  buildEventLine,
  buildIdpFetchRecord,
  formatAuditLine,
  stdoutWriter,
} from './observability/audit-line.ts';

declare const __AUTHORIZER_VERSION__: string | undefined;
const AUTHORIZER_VERSION = typeof __AUTHORIZER_VERSION__ === 'string' ? __AUTHORIZER_VERSION__ : 'dev';

// A snapshot: Lambda's environment is fixed for the life of the instance.
const env: Readonly<Record<string, string | undefined>> = { ...process.env };
const moduleStartedAt = monotonicClock();
const write = stdoutWriter;
const logEvent = (
  level: 'INFO' | 'WARN' | 'ERROR',
  message: string,
  fields: Parameters<typeof buildEventLine>[2],
) => {
  try {
    write(buildEventLine(level, message, fields, systemClock()));
  } catch {
    // Logging must never turn a decision into a 424.
  }
};

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    logEvent('WARN', `${name} ignored: expected an integer from ${min} to ${max}`, { fallback });
    return fallback;
  }
  return value;
}

/** Internal deadline per invocation (AHI allows 1 s including invoke overhead and cold start). */
const BUDGET_MS = intFromEnv('AUTHORIZER_BUDGET_MS', 800, 50, 10_000);
/** Lambda sets this: provisioned-concurrency inits happen before any request, so they may wait longer. */
const INIT_TYPE = env['AWS_LAMBDA_INITIALIZATION_TYPE'] ?? 'on-demand';
const INIT_BUDGET_MS = intFromEnv(
  'AUTHORIZER_INIT_BUDGET_MS',
  INIT_TYPE === 'provisioned-concurrency' ? 5_000 : Math.floor(BUDGET_MS / 2),
  0,
  9_000,
);
/**
 * While the IdP fails, the last good keys keep serving up to this age (default 1 h). At most 12 h,
 * HealthImaging's own token window: a longer bound would outlive every token those keys signed.
 */
const KEYS_MAX_STALE_SECONDS = intFromEnv('AUTHORIZER_KEYS_MAX_STALE_SECONDS', 3_600, 300, 43_200);
/** Entries in the verified-token cache (0 disables it); each lives until min(exp, 5 min). */
const TOKEN_CACHE_SIZE = intFromEnv('AUTHORIZER_TOKEN_CACHE_SIZE', 1_000, 0, 100_000);
/** Below this there is no point starting: answer with what the caches already hold. */
const MIN_INVOCATION_BUDGET_MS = 50;

/**
 * Role ARNs the deployment allows (comma-separated, set by the CDK stack). A configuration value in
 * SSM cannot widen it: a rule naming any other role is denied.
 */
function parseRoleAllowlist(raw: string | undefined): ReadonlySet<string> | undefined {
  if (raw === undefined) return undefined;
  return new Set(
    raw
      .split(',')
      .map((arn) => arn.trim())
      .filter(Boolean),
  );
}

const roleAllowlist = parseRoleAllowlist(env['AUTHORIZER_ALLOWED_ROLE_ARNS']);
const deps: AuthorizeDeps = {
  config: createConfigLoader({
    env,
    onEvent: (event) => {
      if (event.type === 'config_loaded') {
        logEvent('INFO', 'configuration loaded', { source: event.source, configVersion: event.version });
      } else if (event.type === 'config_rejected') {
        logEvent('ERROR', 'configuration rejected', {
          source: event.source,
          configVersion: event.version,
          issues: event.issues.map((issue) => `${issue.path}: ${issue.message}`),
        });
      } else {
        logEvent('ERROR', 'configuration could not be read', {
          source: event.source,
          detail: event.detail,
          keptVersion: event.keptVersion,
        });
      }
    },
  }),
  keys: createKeyStore({
    maxStaleMs: KEYS_MAX_STALE_SECONDS * 1000,
    onFetch: (event) => {
      try {
        write(JSON.stringify(buildIdpFetchRecord(event, systemClock())));
      } catch {
        // Metrics must never break key lookup.
      }
    },
  }),
  now: systemClock,
  tokenCache: createVerifiedTokenCache({ now: systemClock, maxEntries: TOKEN_CACHE_SIZE }),
  ...(roleAllowlist && { roleAllowlist }),
};

/**
 * Init: load the configuration and fetch every issuer's keys in parallel, bounded, so that
 * provisioned-concurrency instances start warm and on-demand cold starts save a round trip. An init
 * failure never crashes the function: requests then deny or fetch within their own budget.
 */
async function initialize(): Promise<void> {
  if (INIT_BUDGET_MS === 0) return;
  const initSignal = AbortSignal.timeout(INIT_BUDGET_MS);
  const state = await deps.config.load(initSignal);
  if (!state.ok) {
    logEvent('ERROR', 'configuration unusable at init: every request will be denied', {
      reason: state.reason,
      detail: state.detail,
    });
    return;
  }
  await raceSignal(
    deps.keys.prefetch(state.loaded.config.issuers, AbortSignal.timeout(INIT_BUDGET_MS)),
    initSignal,
    () => undefined,
  );
}

try {
  await initialize();
} catch {
  logEvent('ERROR', 'init prefetch failed; requests will fetch within their own budget', {});
}

let coldStart = true;

function invocationBudget(context: Partial<Context>, isColdStart: boolean): number {
  let budget = BUDGET_MS;
  const remaining =
    typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  if (typeof remaining === 'number' && Number.isFinite(remaining)) budget = Math.min(budget, remaining - 100);
  // An on-demand cold start already spent part of HealthImaging's second on init.
  if (isColdStart && INIT_TYPE === 'on-demand')
    budget = Math.min(budget, BUDGET_MS - (monotonicClock() - moduleStartedAt));
  return Math.max(budget, MIN_INVOCATION_BUDGET_MS);
}

async function decide(event: unknown, context: Partial<Context>): Promise<AuthResult> {
  const startedAt = monotonicClock();
  const isColdStart = coldStart;
  coldStart = false;
  const deadline = createDeadline(invocationBudget(context, isColdStart));
  const { decision } = await authorize(event, deps, deadline);
  try {
    write(
      formatAuditLine(decision, {
        timestampMs: systemClock(),
        coldStart: isColdStart,
        latencyMs: monotonicClock() - startedAt,
        authorizerVersion: AUTHORIZER_VERSION,
        requestId: context.awsRequestId,
      }),
    );
  } catch {
    // The audit line is best effort; the answer is not.
  }
  return toAuthResult(decision.reason, decision.roleArn);
}

/**
 * The real Lambda runtime always passes a proper context; anything else (tests, emulators, a broken
 * wrapper) must not make the deadline throw. Only a string request id and a finite remaining time
 * are trusted.
 */
function safeContext(context: unknown): Partial<Context> {
  const raw = (typeof context === 'object' && context !== null ? context : {}) as Partial<Context>;
  const safe: Partial<Context> = {};
  if (typeof raw.awsRequestId === 'string') safe.awsRequestId = raw.awsRequestId;
  const getRemaining = raw.getRemainingTimeInMillis;
  if (typeof getRemaining === 'function') {
    let remaining: unknown;
    try {
      remaining = getRemaining.call(raw);
    } catch {
      remaining = undefined;
    }
    if (typeof remaining === 'number' && Number.isFinite(remaining)) {
      const startedAt = monotonicClock();
      safe.getRemainingTimeInMillis = () => remaining - (monotonicClock() - startedAt);
    }
  }
  return safe;
}

/** The Lambda handler. The last error layer: anything that escapes becomes a logged `internal_error` deny. */
export async function handler(event: unknown, context: unknown): Promise<AuthResult> {
  try {
    return await decide(event, safeContext(context));
  } catch {
    // Still one full audit line (with its EMF metrics), so an escape shows up in the reason metrics.
    try {
      write(
        formatAuditLine(
          { reason: 'internal_error', steps: [] },
          {
            timestampMs: systemClock(),
            coldStart: false,
            latencyMs: 0,
            authorizerVersion: AUTHORIZER_VERSION,
          },
        ),
      );
    } catch {
      // Nothing left to report with.
    }
    return { ...DENY_INVALID };
  }
}
