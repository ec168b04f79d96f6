/**
 * The Lambda's tuning settings, read once from the environment, and their ranges. HealthImaging gives
 * the authorizer one second including a cold start
 * (https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-oidc-lambda.html), so no setting
 * may let an answer come later. `cdk synth` (infra/) checks the same ranges; a bad value reaching the
 * function gets an ERROR line and the default.
 */

import { MAX_TOKEN_AGE_SECONDS } from '../kernel/limits.ts';
import {
  AUDIT_SUBJECT_MODES,
  type AuditSubject,
  hashedSubject,
  MIN_AUDIT_HASH_KEY_LENGTH,
} from '../observability/audit-subject.ts';
import { LOCAL_FUNCTION_NAME } from '../observability/audit-line.ts';
import { sanitize } from '../observability/sanitize.ts';

export interface RuntimeSettings {
  /** Internal deadline per invocation. */
  budgetMs: number;
  /** Lambda's AWS_LAMBDA_INITIALIZATION_TYPE: provisioned-concurrency inits run before any request. */
  initType: string;
  /**
   * Lambda's AWS_LAMBDA_FUNCTION_NAME, the `function` dimension of every metric (so two stacks in one
   * account and region never share metrics); `local` outside Lambda.
   */
  functionName: string;
  /** How long this instance's init waits for the config and key prefetch (fetches go on after). */
  initBudgetMs: number;
  /** While the IdP fails, the last good keys keep serving up to this age. */
  keysMaxStaleSeconds: number;
  /** Entries in the verified-token cache (0 disables it). */
  tokenCacheSize: number;
  /** How the audit line names the subject (src/core/observability/audit-subject.ts). */
  auditSubject: AuditSubject;
  /** Role ARNs the deployment allows (set by the CDK stack); absent: any configured role. */
  roleAllowlist?: ReadonlySet<string>;
}

/** Below this a request cannot do anything useful: it answers with what the caches hold. */
export const MIN_INVOCATION_BUDGET_MS = 50;

export interface SettingRange {
  min: number;
  max: number;
  default: number;
  /** One line for errors and docs. */
  meaning: string;
}

export const BUDGET_MS: SettingRange = {
  min: MIN_INVOCATION_BUDGET_MS,
  max: 900,
  default: 800,
  meaning: 'internal deadline per invocation; HealthImaging allows 1 s including invoke overhead',
};

/** On-demand init: the request that caused the cold start waits for it, so it shares the budget. */
export function onDemandInitBudgetMs(budgetMs: number): SettingRange {
  return {
    min: 0,
    max: budgetMs - MIN_INVOCATION_BUDGET_MS,
    default: Math.floor(budgetMs / 2),
    meaning: 'how long an on-demand init waits for the config and key prefetch (part of the budget)',
  };
}

/** Provisioned-concurrency init runs before any request arrives (Lambda's init phase allows 10 s). */
export const PROVISIONED_INIT_BUDGET_MS: SettingRange = {
  min: 0,
  max: 9_000,
  default: 5_000,
  meaning: 'how long a provisioned-concurrency init waits for the config and key prefetch',
};

/** At most 12 h, HealthImaging's own token window: a longer bound would outlive every token those keys signed. */
const KEYS_MAX_STALE_SECONDS: SettingRange = {
  min: 300,
  max: MAX_TOKEN_AGE_SECONDS,
  default: 3_600,
  meaning: 'while the IdP fails, the last good keys keep serving up to this age',
};

const TOKEN_CACHE_SIZE: SettingRange = {
  min: 0,
  max: 100_000,
  default: 1_000,
  meaning: 'entries in the verified-token cache (0 disables it)',
};

export const SETTING_NAMES = {
  auditSubject: 'AUTHORIZER_AUDIT_SUBJECT',
  auditHashKey: 'AUTHORIZER_AUDIT_HASH_KEY',
  budgetMs: 'AUTHORIZER_BUDGET_MS',
  initBudgetMs: 'AUTHORIZER_INIT_BUDGET_MS',
  provisionedInitBudgetMs: 'AUTHORIZER_PROVISIONED_INIT_BUDGET_MS',
  keysMaxStaleSeconds: 'AUTHORIZER_KEYS_MAX_STALE_SECONDS',
  tokenCacheSize: 'AUTHORIZER_TOKEN_CACHE_SIZE',
  /** A PEM file of CAs trusted for discovery and JWKS in addition to the default ones (src/core/keys/ca-bundle.ts). */
  caBundleFile: 'AUTHORIZER_CA_BUNDLE_FILE',
} as const;

export interface SettingProblem {
  name: string;
  message: string;
  fallback: number | string;
}

/**
 * Why `raw` is not acceptable for `name` (undefined when it is, or when it is unset): the same check
 * at synth and at init.
 */
function settingProblem(name: string, raw: string | undefined, range: SettingRange): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= range.min && value <= range.max) return undefined;
  return `${name}=${JSON.stringify(raw)} refused: expected an integer from ${range.min} to ${range.max} (${range.meaning})`;
}

/**
 * Every setting problem of an environment, in a fixed order; the budget is judged first, and the
 * on-demand init budget against the budget that will actually be used.
 */
export function runtimeSettingProblems(env: Readonly<Record<string, string | undefined>>): SettingProblem[] {
  return readSettings(env).problems;
}

export function readRuntimeSettings(
  env: Readonly<Record<string, string | undefined>>,
  onProblem: (problem: SettingProblem) => void,
): RuntimeSettings {
  const { settings, problems } = readSettings(env);
  for (const problem of problems) onProblem(problem);
  return settings;
}

function readSettings(env: Readonly<Record<string, string | undefined>>): {
  settings: RuntimeSettings;
  problems: SettingProblem[];
} {
  const problems: SettingProblem[] = [];
  const int = (name: string, range: SettingRange): number => {
    const message = settingProblem(name, env[name], range);
    if (message !== undefined) problems.push({ name, message, fallback: range.default });
    const raw = env[name];
    return message !== undefined || raw === undefined || raw === '' ? range.default : Number(raw);
  };
  const budgetMs = int(SETTING_NAMES.budgetMs, BUDGET_MS);
  const initType = env['AWS_LAMBDA_INITIALIZATION_TYPE'] ?? 'on-demand';
  // One of Lambda's defined runtime variables
  // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html); a metric dimension's
  // value cannot be empty, so an empty one counts as unset.
  const functionName = sanitize(env['AWS_LAMBDA_FUNCTION_NAME'], 256) || LOCAL_FUNCTION_NAME;
  const onDemandInit = int(SETTING_NAMES.initBudgetMs, onDemandInitBudgetMs(budgetMs));
  const provisionedInit = int(SETTING_NAMES.provisionedInitBudgetMs, PROVISIONED_INIT_BUDGET_MS);
  const settings: RuntimeSettings = {
    budgetMs,
    initType,
    functionName,
    initBudgetMs: initType === 'provisioned-concurrency' ? provisionedInit : onDemandInit,
    keysMaxStaleSeconds: int(SETTING_NAMES.keysMaxStaleSeconds, KEYS_MAX_STALE_SECONDS),
    tokenCacheSize: int(SETTING_NAMES.tokenCacheSize, TOKEN_CACHE_SIZE),
    auditSubject: readAuditSubject(env, problems),
  };
  const roleAllowlist = parseRoleAllowlist(env['AUTHORIZER_ALLOWED_ROLE_ARNS']);
  return { settings: roleAllowlist === undefined ? settings : { ...settings, roleAllowlist }, problems };
}

/**
 * `hash` needs a key of at least 32 characters (the stack generates one); without a key the default
 * is `omit`, so no deployment logs a subject that may be an e-mail address unless it chose `plain`.
 */
function readAuditSubject(
  env: Readonly<Record<string, string | undefined>>,
  problems: SettingProblem[],
): AuditSubject {
  const name = SETTING_NAMES.auditSubject;
  const key = env[SETTING_NAMES.auditHashKey];
  const hasKey = key !== undefined && key !== '';
  const fallback: AuditSubject =
    hasKey && key.length >= MIN_AUDIT_HASH_KEY_LENGTH ? hashedSubject(key) : { mode: 'omit' };
  const raw = env[name];
  const mode = raw === undefined || raw === '' ? (hasKey ? 'hash' : 'omit') : raw;
  if (!(AUDIT_SUBJECT_MODES as readonly string[]).includes(mode)) {
    problems.push({
      name,
      message: `${name}=${JSON.stringify(mode)} refused: expected one of ${AUDIT_SUBJECT_MODES.join(', ')}`,
      fallback: fallback.mode,
    });
    return fallback;
  }
  if (mode === 'plain') return { mode: 'plain' };
  if (mode === 'omit') return { mode: 'omit' };
  if (!hasKey || key.length < MIN_AUDIT_HASH_KEY_LENGTH) {
    problems.push({
      name: SETTING_NAMES.auditHashKey,
      message: `${SETTING_NAMES.auditHashKey} refused: ${name}=hash needs a key of at least ${MIN_AUDIT_HASH_KEY_LENGTH} characters (subjects are omitted instead)`,
      fallback: 'omit',
    });
    return { mode: 'omit' };
  }
  return hashedSubject(key);
}

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
