/**
 * The composition root of the Lambda: builds the warm dependencies once, starts a bounded init, and
 * composes the handler with middy over three middlewares: context normalisation, the audit line and
 * the fail-closed layer. src/core/handler.ts calls it with the real environment; tests and the sandbox
 * with their own writer and clock.
 */

import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type AuthorizeDeps, authorize } from '../authorize.ts';
import { type Clock, type MonotonicClock, monotonicClock, systemClock } from '../kernel/clock.ts';
import { createConfigLoader } from '../config/config-loader.ts';
import { type AuthResult, toAuthResult } from '../contract/healthimaging.ts';
import { type CaBundle, describeCaCertificate, readCaBundleFile } from '../keys/ca-bundle.ts';
import { raceSignal } from '../kernel/deadline.ts';
import { createKeyStore } from '../keys/key-store.ts';
import {
  buildEventLine,
  buildIdpFetchRecord,
  type LineWriter,
  stdoutWriter,
} from '../observability/audit-line.ts';
import { createVerifiedTokenCache } from '../token/verified-token-cache.ts';
import type { AuthorizerContext } from './invocation.ts';
import { failClosed, failClosedAnswer } from './middlewares/fail-closed.ts';
import { normalizeContext } from './middlewares/normalize-context.ts';
import { writeAuditLine } from './middlewares/write-audit-line.ts';
import { MIN_INVOCATION_BUDGET_MS, readRuntimeSettings, SETTING_NAMES } from './runtime-settings.ts';

declare const __AUTHORIZER_VERSION__: string | undefined;
const AUTHORIZER_VERSION = typeof __AUTHORIZER_VERSION__ === 'string' ? __AUTHORIZER_VERSION__ : 'dev';

/** Kept back from the context's remaining time so the answer lands before Lambda's own timeout. */
const LAMBDA_TIMEOUT_RESERVE_MS = 100;
/**
 * A request that caused an on-demand cold start waited for init, and Lambda hands it over as soon as
 * init ends; a first request that arrives later (Lambda may initialise an instance ahead of traffic)
 * waited for nothing. Within this gap after init, the first request is taken to have waited.
 */
const QUEUED_DURING_INIT_GAP_MS = 50;

export interface AuthorizerOptions {
  /** The function's environment (AUTHORIZER_*, AWS_LAMBDA_INITIALIZATION_TYPE and AWS_LAMBDA_FUNCTION_NAME are read). */
  env: Readonly<Record<string, string | undefined>>;
  /** Where the audit and event lines go; default stdout (CloudWatch Logs in Lambda). */
  write?: LineWriter;
  /** Wall clock for token times and log timestamps; default the system clock. */
  now?: Clock;
  /** For deadlines, ages and latency; default process.hrtime. */
  monotonicNow?: MonotonicClock;
}

/** The Lambda handler signature (aws-lambda's Context; the event is parsed at the boundary). */
export type AuthorizerHandler = (event: unknown, context: Context) => Promise<AuthResult>;

export interface Authorizer {
  /** The Lambda handler: never throws, always answers inside its budget. */
  handler: AuthorizerHandler;
  /** Init (config load and key prefetch): resolves when done or out of init budget; never rejects. */
  ready: Promise<void>;
}

export function createAuthorizer(options: AuthorizerOptions): Authorizer {
  const write = options.write ?? stdoutWriter;
  const now = options.now ?? systemClock;
  const monotonicNow = options.monotonicNow ?? monotonicClock;
  const createdAt = monotonicNow();
  // A snapshot: Lambda's environment is fixed for the life of the instance.
  const env: Readonly<Record<string, string | undefined>> = { ...options.env };

  const logEvent = (
    level: 'INFO' | 'WARN' | 'ERROR',
    message: string,
    fields: Parameters<typeof buildEventLine>[2],
  ) => {
    try {
      write(buildEventLine(level, message, fields, now()));
    } catch {
      // Logging must never turn a decision into a 424.
    }
  };

  const settings = readRuntimeSettings(env, (problem) =>
    logEvent('ERROR', problem.message, { setting: problem.name, fallback: problem.fallback }),
  );
  logEvent('INFO', 'audit lines name the subject by mode', { auditSubject: settings.auditSubject.mode });
  const caBundle = loadCaBundle(env, logEvent);
  const deps: AuthorizeDeps = {
    config: createConfigLoader({
      env,
      now: monotonicNow,
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
      now: monotonicNow,
      ...(caBundle === undefined ? {} : { caBundle }),
      maxStaleMs: settings.keysMaxStaleSeconds * 1000,
      onFetch: (event) => {
        try {
          write(JSON.stringify(buildIdpFetchRecord(event, now(), settings.functionName)));
        } catch {
          // Metrics must never break key lookup.
        }
      },
    }),
    now,
    tokenCache: createVerifiedTokenCache({ now, maxEntries: settings.tokenCacheSize }),
    ...(settings.roleAllowlist && { roleAllowlist: settings.roleAllowlist }),
  };

  /**
   * Init: load the configuration and fetch every issuer's keys in parallel, bounded, so that
   * provisioned-concurrency instances start warm and on-demand cold starts save a round trip. An
   * init failure never crashes the function: requests then deny or fetch within their own budget.
   */
  async function initialize(): Promise<void> {
    if (settings.initBudgetMs === 0) return;
    const initSignal = AbortSignal.timeout(settings.initBudgetMs);
    const state = await deps.config.load(initSignal);
    if (!state.ok) {
      logEvent('ERROR', 'configuration unusable at init: every request will be denied', {
        reason: state.reason,
        detail: state.detail,
      });
      return;
    }
    await raceSignal(
      deps.keys.prefetch(state.loaded.config.issuers, AbortSignal.timeout(settings.initBudgetMs)),
      initSignal,
      () => undefined,
    );
  }

  let readyAt: number | undefined;
  const ready = initialize()
    .catch(() => {
      logEvent('ERROR', 'init prefetch failed; requests will fetch within their own budget', {});
    })
    .finally(() => {
      readyAt = monotonicNow();
    });

  /**
   * What an on-demand cold start's first request already waited (init included), to take off its
   * budget; undefined when it did not wait (it arrived after init, or init was provisioned).
   */
  const coldStartSpentMs = (): number | undefined => {
    if (settings.initType !== 'on-demand') return undefined;
    const at = monotonicNow();
    if (readyAt !== undefined && at - readyAt > QUEUED_DURING_INIT_GAP_MS) return undefined;
    return at - createdAt;
  };

  const auditOptions = {
    write,
    now,
    monotonicNow,
    authorizerVersion: AUTHORIZER_VERSION,
    functionName: settings.functionName,
    subject: settings.auditSubject,
  };
  // Middy's own timeout is off: authorize() answers on its own deadline first.
  const composed = middy<unknown, AuthResult, Error, AuthorizerContext>({ timeoutEarlyInMillis: 0 })
    .use(
      normalizeContext(
        {
          budgetMs: settings.budgetMs,
          minBudgetMs: MIN_INVOCATION_BUDGET_MS,
          lambdaTimeoutReserveMs: LAMBDA_TIMEOUT_RESERVE_MS,
          coldStartSpentMs,
        },
        monotonicNow,
      ),
    )
    .use(writeAuditLine(auditOptions))
    .use(failClosed(auditOptions))
    .handler((event, context) => {
      const { invocation } = context;
      return authorize(event, deps, invocation.deadline).then(({ decision }) => {
        invocation.decision = decision;
        return toAuthResult(decision.reason, decision.roleArn);
      });
    });

  /**
   * Middy reads `context.getRemainingTimeInMillis` before the first middleware, outside its error
   * handling: a context that is not an object (or whose member throws) would escape it. This guard
   * is the only code outside middy, and answers such a case like the fail-closed layer does.
   */
  const handler: AuthorizerHandler = (event, context) => {
    const raw: unknown = context;
    const safe = (typeof raw === 'object' && raw !== null ? raw : {}) as AuthorizerContext;
    return composed(event, safe).catch(() => failClosedAnswer(auditOptions));
  };

  return { handler, ready };
}

/**
 * The private CA bundle named by AUTHORIZER_CA_BUNDLE_FILE (the stack ships it in the function's
 * code), read once at init. An unusable bundle (synth validated it, so this means a hand-edited
 * function) is an ERROR line and fetches trust the default CAs only: never more trust than
 * configured, and every fetch to a privately signed IdP then fails as `tls` / `unknown_ca`.
 */
function loadCaBundle(
  env: Readonly<Record<string, string | undefined>>,
  logEvent: (level: 'INFO' | 'ERROR', message: string, fields: Parameters<typeof buildEventLine>[2]) => void,
): CaBundle | undefined {
  const name = SETTING_NAMES.caBundleFile;
  const path = env[name];
  if (path === undefined || path === '') return undefined;
  const read = readCaBundleFile(path);
  if (!read.ok) {
    logEvent('ERROR', 'CA bundle unusable: identity provider fetches trust the default CAs only', {
      setting: name,
      file: path,
      detail: read.problem,
    });
    return undefined;
  }
  logEvent('INFO', 'identity provider fetches also trust the CA bundle', {
    setting: name,
    file: path,
    certificates: read.bundle.certificates.length,
    // Subject CNs of the operator's own CAs, at most ten: enough to confirm the right file shipped.
    subjects: read.bundle.certificates.slice(0, 10).map(describeCaCertificate),
  });
  return read.bundle;
}
