/**
 * The Lambda's tuning settings, read once from its environment (fixed for the life of an instance).
 * Each has a default and a range; a value out of range is logged and the default used, so a typo
 * never disables a safety bound.
 */

export interface RuntimeSettings {
  /** Internal deadline per invocation (HealthImaging allows 1 s including invoke overhead). */
  budgetMs: number;
  /** Lambda's AWS_LAMBDA_INITIALIZATION_TYPE: provisioned-concurrency inits run before any request. */
  initType: string;
  /** How long init may spend loading the config and prefetching keys; 0 skips the prefetch. */
  initBudgetMs: number;
  /** While the IdP fails, the last good keys keep serving up to this age. */
  keysMaxStaleSeconds: number;
  /** Entries in the verified-token cache (0 disables it). */
  tokenCacheSize: number;
  /** Role ARNs the deployment allows (set by the CDK stack); absent: any configured role. */
  roleAllowlist?: ReadonlySet<string>;
}

export type SettingWarning = (message: string, fallback: number) => void;

export function readRuntimeSettings(
  env: Readonly<Record<string, string | undefined>>,
  warn: SettingWarning,
): RuntimeSettings {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      warn(`${name} ignored: expected an integer from ${min} to ${max}`, fallback);
      return fallback;
    }
    return value;
  };
  const budgetMs = int('AUTHORIZER_BUDGET_MS', 800, 50, 10_000);
  const initType = env['AWS_LAMBDA_INITIALIZATION_TYPE'] ?? 'on-demand';
  const settings: RuntimeSettings = {
    budgetMs,
    initType,
    initBudgetMs: int(
      'AUTHORIZER_INIT_BUDGET_MS',
      initType === 'provisioned-concurrency' ? 5_000 : Math.floor(budgetMs / 2),
      0,
      9_000,
    ),
    // At most 12 h, HealthImaging's own token window: a longer bound would outlive every token
    // those keys signed.
    keysMaxStaleSeconds: int('AUTHORIZER_KEYS_MAX_STALE_SECONDS', 3_600, 300, 43_200),
    tokenCacheSize: int('AUTHORIZER_TOKEN_CACHE_SIZE', 1_000, 0, 100_000),
  };
  const roleAllowlist = parseRoleAllowlist(env['AUTHORIZER_ALLOWED_ROLE_ARNS']);
  return roleAllowlist === undefined ? settings : { ...settings, roleAllowlist };
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
