/**
 * The one structured JSON line per decision (PRODUCT.md §5, the HIPAA audit trail), which is also a
 * CloudWatch Embedded Metric Format record: the `decision` and `reason` fields double as metric
 * dimensions, so one line carries both the audit evidence and the metrics (no second log line per
 * request). Fields are an allowlist: never the token, the raw event, a jose error or personal claims.
 */

import type { Decision } from '../decision/decision.ts';
import { sanitize } from './sanitize.ts';

export const METRIC_NAMESPACE = 'HealthImagingAuthorizer';

export interface InvocationFacts {
  timestampMs: number;
  requestId?: string;
  coldStart: boolean;
  latencyMs: number;
  authorizerVersion: string;
}

export interface AuditRecord {
  ts: string;
  level: 'INFO';
  message: 'authorization decision';
  requestId?: string;
  decision: 'allow' | 'deny';
  reason: string;
  datastoreId?: string;
  operation?: string;
  rule?: string;
  roleArn?: string;
  iss?: string;
  sub?: string;
  clientId?: string;
  tid?: string;
  jti?: string;
  iat?: number;
  exp?: number;
  kid?: string;
  alg?: string;
  keyCache?: string;
  keysAgeMs?: number;
  configVersion?: string;
  coldStart: boolean;
  latencyMs: number;
  authorizerVersion: string;
  decisions: 1;
  /** 1 when the key came from the warm cache without waiting for a fetch (fresh or stale). */
  keyCacheHit?: 0 | 1;
  /** 'hit' when the verified-token cache answered (no parse, key lookup or signature check). */
  tokenCache?: 'hit' | 'miss';
  tokenCacheHit?: 0 | 1;
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
}

export function buildAuditRecord(decision: Decision, facts: InvocationFacts): AuditRecord {
  const allowed = decision.reason === 'allowed';
  const record: AuditRecord = {
    ts: new Date(facts.timestampMs).toISOString(),
    level: 'INFO',
    message: 'authorization decision',
    decision: allowed ? 'allow' : 'deny',
    reason: decision.reason,
    coldStart: facts.coldStart,
    latencyMs: Math.round(facts.latencyMs * 100) / 100,
    authorizerVersion: facts.authorizerVersion,
    decisions: 1,
    _aws: {
      Timestamp: facts.timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [['decision'], ['reason']],
          Metrics: [
            { Name: 'decisions', Unit: 'Count' },
            { Name: 'latencyMs', Unit: 'Milliseconds' },
          ],
        },
      ],
    },
  };
  const put = <K extends keyof AuditRecord>(key: K, value: AuditRecord[K] | undefined) => {
    if (value !== undefined) record[key] = value;
  };
  put('requestId', sanitize(facts.requestId, 64));
  put('datastoreId', decision.datastoreId);
  put('operation', sanitize(decision.operation, 64));
  if (allowed) {
    put('rule', decision.rule);
    put('roleArn', decision.roleArn);
  }
  put('iss', sanitize(decision.iss, 256));
  const verified = decision.verified;
  if (verified) {
    put('sub', sanitize(verified.sub, 256));
    put('clientId', sanitize(verified.clientId, 256));
    put('tid', sanitize(verified.tid, 64));
    put('jti', sanitize(verified.jti, 128));
    put('iat', verified.iat);
    put('exp', verified.exp);
  }
  put('kid', sanitize(decision.kid, 128));
  put('alg', sanitize(decision.alg, 16));
  put('keyCache', decision.keys?.cacheState);
  if (decision.keys) {
    const cacheState = decision.keys.cacheState;
    record.keyCacheHit = cacheState === 'fresh' || cacheState === 'stale' ? 1 : 0;
    record._aws.CloudWatchMetrics[0]?.Metrics.push({ Name: 'keyCacheHit', Unit: 'Count' });
  }
  put('keysAgeMs', decision.keys?.keysAgeMs === undefined ? undefined : Math.round(decision.keys.keysAgeMs));
  put('configVersion', decision.configVersion);
  if (decision.tokenCache) {
    record.tokenCache = decision.tokenCache;
    record.tokenCacheHit = decision.tokenCache === 'hit' ? 1 : 0;
    record._aws.CloudWatchMetrics[0]?.Metrics.push({ Name: 'tokenCacheHit', Unit: 'Count' });
  }
  return record;
}

/** Writes one JSON line; the default writer is stdout, where Lambda ships lines to CloudWatch Logs. */
export type LineWriter = (line: string) => void;

export const stdoutWriter: LineWriter = (line) => {
  process.stdout.write(`${line}\n`);
};

export interface IdpFetchFacts {
  issuer: string;
  kind: 'discovery' | 'jwks';
  url: string;
  /** 'ok' or the failure cause: timeout, status, too_large, invalid, redirect, network, issuer_mismatch, no_usable_keys. */
  outcome: string;
  ms: number;
}

/**
 * One line per discovery/JWKS fetch (rare: refreshes and cold starts), also an EMF record so fetch
 * outcomes by cause can be graphed and alarmed on: metrics `idpFetches` and `idpFetchMs`,
 * dimensions `kind` + `outcome`. Never the response body.
 */
export function buildIdpFetchRecord(fetch: IdpFetchFacts, timestampMs: number): Record<string, unknown> {
  return {
    ts: new Date(timestampMs).toISOString(),
    level: fetch.outcome === 'ok' ? 'INFO' : 'WARN',
    message: 'identity provider fetch',
    issuer: sanitize(fetch.issuer, 256),
    kind: fetch.kind,
    url: sanitize(fetch.url, 512),
    outcome: fetch.outcome,
    idpFetches: 1,
    idpFetchMs: Math.round(fetch.ms * 100) / 100,
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [['kind', 'outcome']],
          Metrics: [
            { Name: 'idpFetches', Unit: 'Count' },
            { Name: 'idpFetchMs', Unit: 'Milliseconds' },
          ],
        },
      ],
    },
  };
}

/** Operational events (config problems): never token data. */
export function buildEventLine(
  level: 'INFO' | 'WARN' | 'ERROR',
  message: string,
  fields: Record<string, string | number | boolean | undefined | readonly unknown[]>,
  timestampMs: number,
): string {
  return JSON.stringify({ ts: new Date(timestampMs).toISOString(), level, message, ...fields });
}
