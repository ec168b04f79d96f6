import { fc, it as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decision/decision.ts';
import { type Reason, REASONS } from '../../src/core/decision/reason-codes.ts';
import {
  buildAuditRecord,
  buildIdpFetchRecord,
  formatAuditLine,
  METRIC_NAMESPACE,
} from '../../src/core/observability/audit-line.ts';
import { type AuditSubject, hashedSubject } from '../../src/core/observability/audit-subject.ts';

const PLAIN: AuditSubject = { mode: 'plain' };
const KEY = 'an-audit-hash-key-of-32-characters!';

const facts = {
  timestampMs: Date.UTC(2026, 10, 23, 12),
  coldStart: true,
  latencyMs: 12.345,
  authorizerVersion: '0.1.0',
  functionName: 'ahi-authorizer-prod',
  requestId: 'r-1',
};

interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string; Unit: string }[];
}
const emfOf = (record: object): EmfDirective =>
  (record as { _aws: { CloudWatchMetrics: EmfDirective[] } })._aws.CloudWatchMetrics[0]!;

describe('buildAuditRecord', () => {
  it('records an allow with its rule, role and the verified facts', () => {
    const decision: Decision = {
      reason: 'allowed',
      roleArn: 'arn:aws:iam::111122223333:role/R',
      rule: 'readers',
      datastoreId: 'a'.repeat(32),
      operation: 'GetDICOMInstance',
      alg: 'RS256',
      kid: 'k1',
      iss: 'https://idp.example.org',
      verified: { iss: 'https://idp.example.org', sub: 's-1', clientId: 'c-1', jti: 'j-1', iat: 1, exp: 2 },
      keys: { cacheState: 'fresh', keysAgeMs: 1234.6 },
      configVersion: 'ssm:3',
      steps: [],
    };
    const record = buildAuditRecord(decision, { ...facts, subject: PLAIN });
    expect(record).toMatchObject({
      ts: '2026-11-23T12:00:00.000Z',
      decision: 'allow',
      reason: 'allowed',
      rule: 'readers',
      roleArn: 'arn:aws:iam::111122223333:role/R',
      sub: 's-1',
      clientId: 'c-1',
      jti: 'j-1',
      keyCache: 'fresh',
      keysAgeMs: 1235,
      configVersion: 'ssm:3',
      coldStart: true,
      latencyMs: 12.35,
      requestId: 'r-1',
      decisions: 1,
    });
  });

  it('is a CloudWatch EMF record whose dimensions are the function, decision and reason fields', () => {
    const record = buildAuditRecord({ reason: 'kid_unknown', steps: [] }, facts);
    const metrics = record._aws.CloudWatchMetrics[0]!;
    expect(metrics.Namespace).toBe(METRIC_NAMESPACE);
    for (const dimension of metrics.Dimensions.flat()) expect(record).toHaveProperty(dimension);
    for (const metric of metrics.Metrics)
      expect(typeof (record as unknown as Record<string, unknown>)[metric.Name]).toBe('number');
  });

  it('puts the function in every dimension set, its value in the record, so two stacks never share a metric', () => {
    // Act
    const prod = buildAuditRecord({ reason: 'idp_unavailable', steps: [] }, facts);
    const staging = buildAuditRecord(
      { reason: 'idp_unavailable', steps: [] },
      { ...facts, functionName: 'ahi-authorizer-staging' },
    );

    // Assert
    expect(emfOf(prod).Dimensions).toEqual([
      ['function', 'decision'],
      ['function', 'reason'],
    ]);
    expect(prod.function).toBe('ahi-authorizer-prod');
    expect(staging.function).toBe('ahi-authorizer-staging');
  });

  it('omits rule and role on a deny even if the decision carries a rule name', () => {
    const record = buildAuditRecord({ reason: 'internal_error', rule: 'writers', steps: [] }, facts);
    expect(record.decision).toBe('deny');
    expect(record).not.toHaveProperty('rule');
    expect(record).not.toHaveProperty('roleArn');
  });

  it('carries no subject or client before the signature verified', () => {
    const record = buildAuditRecord(
      { reason: 'signature_invalid', iss: 'https://idp.example.org', kid: 'k1', alg: 'RS256', steps: [] },
      facts,
    );
    expect(record).not.toHaveProperty('sub');
    expect(record).not.toHaveProperty('clientId');
    expect(record.iss).toBe('https://idp.example.org');
  });

  it('caps and charset-filters attacker-controlled strings so one line stays one line', () => {
    const record = buildAuditRecord(
      {
        reason: 'issuer_invalid',
        iss: `https://evil\r\n\u001b[31m${'x'.repeat(10_000)}`,
        kid: 'a\nb',
        steps: [],
      },
      facts,
    );
    const line = JSON.stringify(record);
    expect(line).not.toMatch(/\\r|\\n|\\u001b/);
    expect(record.iss!.length).toBeLessThanOrEqual(257);
    expect(record.kid).toBe('a?b');
  });
});

/** Strings as hostile as a token can make them: quotes, backslashes, controls, separators, astral, lone surrogates. */
const wild = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('"', '\\', '\u2028', '\ud800', '…', 'a"b\\c\n', 'x'.repeat(300)),
);
const finiteNumber = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 });
const decisionArb: fc.Arbitrary<Decision> = fc.record(
  {
    reason: fc.constantFrom(...(Object.keys(REASONS) as Reason[])),
    roleArn: wild,
    rule: wild,
    datastoreId: wild,
    operation: wild,
    alg: wild,
    kid: wild,
    iss: wild,
    verified: fc.record(
      { iss: wild, sub: wild, clientId: wild, tid: wild, jti: wild, iat: finiteNumber, exp: finiteNumber },
      { requiredKeys: ['iss', 'sub', 'iat', 'exp'] },
    ),
    keys: fc.record(
      { cacheState: fc.constantFrom('fresh', 'stale', 'refetched', 'unavailable'), keysAgeMs: finiteNumber },
      { requiredKeys: ['cacheState'] },
    ),
    tokenCache: fc.constantFrom('hit', 'miss'),
    configVersion: wild,
    steps: fc.constant([]),
  },
  { requiredKeys: ['reason', 'steps'] },
);
const factsArb = fc.record(
  {
    // Same-second neighbours exercise the cached date prefix; the extremes the format change.
    timestampMs: fc.oneof(
      fc.integer({ min: -62_198_755_200_000, max: 253_402_300_799_999 }),
      fc.constantFrom(
        1_795_440_000_000,
        1_795_440_000_007,
        1_795_440_000_042,
        1_795_440_000_999,
        1_795_440_001_000,
      ),
      fc.constantFrom(-62_198_755_200_001, 253_402_300_800_000, -1, 0, 1.5),
    ),
    requestId: wild,
    subject: fc.constantFrom<AuditSubject>(PLAIN, { mode: 'omit' }, hashedSubject(KEY)),
    coldStart: fc.boolean(),
    latencyMs: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e6 }),
    authorizerVersion: wild,
    // One name per instance in Lambda; the arbitrary also varies it between lines, as tests do.
    functionName: fc.oneof(fc.constantFrom('local', 'ahi-authorizer-prod'), wild),
  },
  { requiredKeys: ['timestampMs', 'coldStart', 'latencyMs', 'authorizerVersion', 'functionName'] },
);

describe('the subject in the audit record', () => {
  const verifiedDecision = (iss: string, sub: string): Decision => ({
    reason: 'allowed',
    roleArn: 'arn:aws:iam::111122223333:role/R',
    rule: 'readers',
    verified: { iss, sub, iat: 1, exp: 2 },
    steps: [],
  });
  const EMAIL = 'jane.doe@hospital.example';

  it('logs a keyed hash, not the subject, in the hash mode: the same for one user across instances', () => {
    // Act
    const first = buildAuditRecord(verifiedDecision('https://idp', EMAIL), {
      ...facts,
      subject: hashedSubject(KEY),
    });
    const again = buildAuditRecord(verifiedDecision('https://idp', EMAIL), {
      ...facts,
      subject: hashedSubject(KEY),
    });

    // Assert
    expect(first.subHash).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(again.subHash).toBe(first.subHash);
    expect(first.sub).toBeUndefined();
    expect(JSON.stringify(first)).not.toContain('jane');
  });

  it.each([
    ['another key', 'https://idp', EMAIL, `${KEY}-rotated`],
    ['another issuer', 'https://other-idp', EMAIL, KEY],
    ['another subject', 'https://idp', 'john@hospital.example', KEY],
  ])('gives a different hash for %s', (_name, iss, sub, key) => {
    // Act
    const base = buildAuditRecord(verifiedDecision('https://idp', EMAIL), {
      ...facts,
      subject: hashedSubject(KEY),
    });
    const other = buildAuditRecord(verifiedDecision(iss, sub), { ...facts, subject: hashedSubject(key) });

    // Assert
    expect(other.subHash).not.toBe(base.subHash);
  });

  it('logs no subject at all in the omit mode, which is also the default', () => {
    // Act
    const omitted = buildAuditRecord(verifiedDecision('https://idp', EMAIL), {
      ...facts,
      subject: { mode: 'omit' },
    });
    const byDefault = buildAuditRecord(verifiedDecision('https://idp', EMAIL), facts);

    // Assert
    for (const record of [omitted, byDefault]) {
      expect(record.sub).toBeUndefined();
      expect(record.subHash).toBeUndefined();
    }
  });
});

describe('formatAuditLine', () => {
  prop.prop([decisionArb, factsArb], { numRuns: 2000 })(
    'writes exactly JSON.stringify(buildAuditRecord(...)) for any decision',
    (decision, invocation) => {
      expect(formatAuditLine(decision, invocation)).toBe(
        JSON.stringify(buildAuditRecord(decision, invocation)),
      );
    },
  );

  it('is one line of valid JSON for the allow example', () => {
    const decision: Decision = {
      reason: 'allowed',
      roleArn: 'arn:aws:iam::111122223333:role/R',
      rule: 'readers',
      keys: { cacheState: 'fresh', keysAgeMs: 1 },
      tokenCache: 'miss',
      steps: [],
    };
    const line = formatAuditLine(decision, facts);
    expect(line).not.toContain('\n');
    const metrics = (
      JSON.parse(line) as { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } }
    )._aws.CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name);
    expect(metrics).toEqual(['decisions', 'latencyMs', 'keyCacheHit', 'tokenCacheHit']);
  });
});

describe('buildIdpFetchRecord', () => {
  it('puts the function in its dimension set, its value in the record, beside kind and outcome', () => {
    // Arrange
    const fetch = {
      issuer: 'https://idp.example.org',
      kind: 'jwks' as const,
      url: 'https://idp.example.org/jwks',
      outcome: 'timeout',
      ms: 2000,
    };

    // Act
    const record = buildIdpFetchRecord(fetch, facts.timestampMs, 'ahi-authorizer-staging');

    // Assert
    expect(emfOf(record).Dimensions).toEqual([['function', 'kind', 'outcome']]);
    for (const dimension of emfOf(record).Dimensions.flat()) expect(record).toHaveProperty(dimension);
    expect(record).toMatchObject({ function: 'ahi-authorizer-staging', kind: 'jwks', outcome: 'timeout' });
  });
});
