/**
 * The one structured JSON line per decision (the HIPAA audit trail), which is also a CloudWatch
 * Embedded Metric Format record: one line carries both the audit evidence and the metrics. Fields are
 * an allowlist: never the token, the raw event, a jose error or personal claims; the subject only as
 * audit-subject.ts decides.
 */

import { writeSync } from 'node:fs';
import type { Decision } from '../decision/decision.ts';
import { MAX_KID_LENGTH } from '../kernel/limits.ts';
import { type AuditSubject, subjectField } from './audit-subject.ts';
import { sanitize } from './sanitize.ts';

const OMIT: AuditSubject = { mode: 'omit' };

export const METRIC_NAMESPACE = 'HealthImagingAuthorizer';
/**
 * The dimension in every EMF dimension set that names the function, so two stacks in one account and
 * region (staging beside production) keep separate metrics and alarms; its value is the record's
 * `function` field (EMF takes a dimension's value from the record:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 */
export const FUNCTION_DIMENSION = 'function';
/** The `function` value outside Lambda (tests, the local sandbox, the CLI), where no function name is set. */
export const LOCAL_FUNCTION_NAME = 'local';
/** The decision line's dimension sets: decisions by outcome and by reason, each per function. */
const DECISION_DIMENSIONS: readonly (readonly string[])[] = [
  [FUNCTION_DIMENSION, 'decision'],
  [FUNCTION_DIMENSION, 'reason'],
];

export interface InvocationFacts {
  timestampMs: number;
  /** How the subject is logged; default `omit` (see audit-subject.ts). */
  subject?: AuditSubject;
  requestId?: string | undefined;
  coldStart: boolean;
  latencyMs: number;
  authorizerVersion: string;
  /** The Lambda function's name (the `function` dimension), read once per instance. */
  functionName: string;
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
  /** Only with the `plain` subject mode. */
  sub?: string;
  /** The default: a keyed hash of iss and sub, the same for one user across instances. */
  subHash?: string;
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
  /** The Lambda function's name: the `function` dimension of every metric. */
  function: string;
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

/**
 * The audit record as an object: the readable specification of the line (tests, the security suite).
 * The handler writes the same JSON through formatAuditLine, which a property test holds equal to
 * `JSON.stringify(buildAuditRecord(...))`.
 */
export function buildAuditRecord(decision: Decision, facts: InvocationFacts): AuditRecord {
  const allowed = decision.reason === 'allowed';
  const verified = decision.verified;
  const keys = decision.keys;
  const record: Partial<AuditRecord> = {
    ts: new Date(facts.timestampMs).toISOString(),
    level: 'INFO',
    message: 'authorization decision',
    decision: allowed ? 'allow' : 'deny',
    reason: decision.reason,
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
  if (verified) {
    const subject = subjectField(verified.iss, verified.sub, facts.subject ?? OMIT);
    if (subject !== undefined) put(subject.name, sanitize(subject.value, 256));
    put('clientId', sanitize(verified.clientId, 256));
    put('tid', sanitize(verified.tid, 64));
    put('jti', sanitize(verified.jti, 128));
    put('iat', verified.iat);
    put('exp', verified.exp);
  }
  put('kid', sanitize(decision.kid, MAX_KID_LENGTH));
  put('alg', sanitize(decision.alg, 16));
  const metrics = [
    { Name: 'decisions', Unit: 'Count' },
    { Name: 'latencyMs', Unit: 'Milliseconds' },
  ];
  if (keys) {
    put('keyCache', keys.cacheState);
    put('keyCacheHit', keys.cacheState === 'fresh' || keys.cacheState === 'stale' ? 1 : 0);
    put('keysAgeMs', keys.keysAgeMs === undefined ? undefined : Math.round(keys.keysAgeMs));
    metrics.push({ Name: 'keyCacheHit', Unit: 'Count' });
  }
  put('configVersion', decision.configVersion);
  if (decision.tokenCache) {
    put('tokenCache', decision.tokenCache);
    put('tokenCacheHit', decision.tokenCache === 'hit' ? 1 : 0);
    metrics.push({ Name: 'tokenCacheHit', Unit: 'Count' });
  }
  record.coldStart = facts.coldStart;
  record.latencyMs = Math.round(facts.latencyMs * 100) / 100;
  record.authorizerVersion = facts.authorizerVersion;
  record.function = facts.functionName;
  record.decisions = 1;
  record._aws = {
    Timestamp: facts.timestampMs,
    CloudWatchMetrics: [
      {
        Namespace: METRIC_NAMESPACE,
        Dimensions: DECISION_DIMENSIONS.map((set) => [...set]),
        Metrics: metrics,
      },
    ],
  };
  return record as AuditRecord;
}

const METRICS_BASE = '{"Name":"decisions","Unit":"Count"},{"Name":"latencyMs","Unit":"Milliseconds"}';
const EMF_MIDDLE = `,"CloudWatchMetrics":[{"Namespace":${JSON.stringify(METRIC_NAMESPACE)},"Dimensions":${JSON.stringify(DECISION_DIMENSIONS)},"Metrics":[${METRICS_BASE}`;

let tailVersion: string | undefined;
let tailFunction: string | undefined;
let tail = '';
/**
 * `,"authorizerVersion":…,"function":…,"decisions":1,"_aws":{"Timestamp":`: the same for every line
 * of an instance, so it is built once and rebuilt only if a caller passes other values.
 */
function instanceTail(authorizerVersion: string, functionName: string): string {
  if (authorizerVersion !== tailVersion || functionName !== tailFunction) {
    tail = `,"authorizerVersion":${str(authorizerVersion)},"function":${str(functionName)},"decisions":1,"_aws":{"Timestamp":`;
    tailVersion = authorizerVersion;
    tailFunction = functionName;
  }
  return tail;
}

/**
 * The audit line as the handler writes it: the same JSON as `JSON.stringify(buildAuditRecord(...))`
 * (property-tested), built as one string without the intermediate record. On a repeated token the
 * line is a large share of the whole decision, so this is measured in `npm run bench`.
 */
export function formatAuditLine(decision: Decision, facts: InvocationFacts): string {
  // The fields of buildAuditRecord, in its order, read straight into the line: no intermediate object.
  const allowed = decision.reason === 'allowed';
  let line = `{"ts":"${isoTimestamp(facts.timestampMs)}","level":"INFO","message":"authorization decision","decision":"${allowed ? 'allow' : 'deny'}","reason":${str(decision.reason)}`;
  line += field('requestId', sanitize(facts.requestId, 64));
  if (decision.datastoreId !== undefined) line += `,"datastoreId":${str(decision.datastoreId)}`;
  line += field('operation', sanitize(decision.operation, 64));
  if (allowed) line += field('rule', decision.rule) + field('roleArn', decision.roleArn);
  line += field('iss', sanitize(decision.iss, 256));
  const verified = decision.verified;
  if (verified) {
    const subject = subjectField(verified.iss, verified.sub, facts.subject ?? OMIT);
    if (subject !== undefined) line += field(subject.name, sanitize(subject.value, 256));
    line +=
      field('clientId', sanitize(verified.clientId, 256)) +
      field('tid', sanitize(verified.tid, 64)) +
      field('jti', sanitize(verified.jti, 128)) +
      `,"iat":${num(verified.iat)},"exp":${num(verified.exp)}`;
  }
  line += field('kid', sanitize(decision.kid, MAX_KID_LENGTH)) + field('alg', sanitize(decision.alg, 16));
  const keys = decision.keys;
  if (keys) {
    const hit = keys.cacheState === 'fresh' || keys.cacheState === 'stale' ? 1 : 0;
    line += `,"keyCache":${str(keys.cacheState)},"keyCacheHit":${hit}`;
    if (keys.keysAgeMs !== undefined) line += `,"keysAgeMs":${num(Math.round(keys.keysAgeMs))}`;
  }
  line += field('configVersion', decision.configVersion);
  const tokenCache = decision.tokenCache;
  if (tokenCache !== undefined) {
    line += `,"tokenCache":${str(tokenCache)},"tokenCacheHit":${tokenCache === 'hit' ? 1 : 0}`;
  }
  line += `,"coldStart":${facts.coldStart},"latencyMs":${num(Math.round(facts.latencyMs * 100) / 100)}`;
  line += `${instanceTail(facts.authorizerVersion, facts.functionName)}${num(facts.timestampMs)}${EMF_MIDDLE}`;
  if (keys) line += ',{"Name":"keyCacheHit","Unit":"Count"}';
  if (tokenCache !== undefined) line += ',{"Name":"tokenCacheHit","Unit":"Count"}';
  return `${line}]}]}}`;
}

/** `,"name":"value"` for a string field, nothing when it is absent (as JSON.stringify omits undefined). */
const field = (name: string, value: string | undefined): string =>
  value === undefined ? '' : `,"${name}":${str(value)}`;

/** Characters JSON.stringify would escape (or that need its care): anything else is copied as is. */
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
/** JSON.stringify for a string, with a fast path for the usual printable-ASCII value. */
const str = (value: string): string => (NEEDS_JSON_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`);

let isoSecond = Number.NaN;
let isoPrefix = '';
/** `new Date(ms).toISOString()`, formatting the date and time once per second (a warm instance logs many per second). */
function isoTimestamp(ms: number): string {
  if (!Number.isSafeInteger(ms)) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    const iso = new Date(ms).toISOString();
    // Outside years 0000-9999 the format changes (±YYYYYY): no caching there.
    if (iso.length !== 24) return iso;
    isoSecond = second;
    isoPrefix = iso.slice(0, 20);
  }
  const millis = ms - second * 1000;
  return `${isoPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
/** JSON's number form (a non-finite number is `null`, as JSON.stringify writes it). */
const num = (value: number): string => (Number.isFinite(value) ? String(value) : 'null');

/** Writes one JSON line; the default writer is stdout, where Lambda ships lines to CloudWatch Logs. */
export type LineWriter = (line: string) => void;

/**
 * Writes straight to file descriptor 1 (what `process.stdout.write` does underneath for a file or a
 * pipe on Linux): no stream object, so the first line does not load the stream machinery (a
 * cold-start cost) and each line skips the Writable layers. If the descriptor refuses (a non-blocking
 * pipe answering EAGAIN) or takes part of the line, the rest goes through process.stdout, which
 * queues it.
 */
export const stdoutWriter: LineWriter = (line) => {
  const text = `${line}\n`;
  let written = 0;
  try {
    written = writeSync(1, text);
  } catch {
    written = 0;
  }
  if (written !== Buffer.byteLength(text)) process.stdout.write(Buffer.from(text).subarray(written));
};

export interface IdpFetchFacts {
  issuer: string;
  kind: 'discovery' | 'jwks';
  url: string;
  /** 'ok' or the failure cause: timeout, status, too_large, invalid, redirect, tls, network, issuer_mismatch, no_usable_keys. */
  outcome: string;
  /** With outcome `tls`: unknown_ca, expired, not_yet_valid, host_mismatch, bad_certificate or handshake. */
  tlsCause?: string;
  /** With outcome `tls`: Node's error code (SELF_SIGNED_CERT_IN_CHAIN …), a fixed vocabulary. */
  tlsCode?: string;
  ms: number;
}

/**
 * One line per discovery/JWKS fetch (rare: refreshes and cold starts), also an EMF record so fetch
 * outcomes by cause can be graphed and alarmed on: metrics `idpFetches` and `idpFetchMs`,
 * dimensions `function` + `kind` + `outcome`. A TLS failure (outcome `tls`) also names its cause and
 * Node's error code as plain fields, not dimensions (no new metric per cause). Never the response
 * body, never the peer's certificate.
 */
export function buildIdpFetchRecord(
  fetch: IdpFetchFacts,
  timestampMs: number,
  functionName: string,
): Record<string, unknown> {
  return {
    ts: new Date(timestampMs).toISOString(),
    level: fetch.outcome === 'ok' ? 'INFO' : 'WARN',
    message: 'identity provider fetch',
    issuer: sanitize(fetch.issuer, 256),
    kind: fetch.kind,
    url: sanitize(fetch.url, 512),
    outcome: fetch.outcome,
    ...(fetch.tlsCause === undefined ? {} : { tlsCause: sanitize(fetch.tlsCause, 32) }),
    ...(fetch.tlsCode === undefined ? {} : { tlsCode: sanitize(fetch.tlsCode, 64) }),
    function: functionName,
    idpFetches: 1,
    idpFetchMs: Math.round(fetch.ms * 100) / 100,
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [[FUNCTION_DIMENSION, 'kind', 'outcome']],
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
