import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/decision/decision.ts';
import { buildAuditRecord, METRIC_NAMESPACE } from '../../src/observability/audit-line.ts';

const facts = {
  timestampMs: Date.UTC(2026, 10, 23, 12),
  coldStart: true,
  latencyMs: 12.345,
  authorizerVersion: '0.1.0',
  requestId: 'r-1',
};

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
    const record = buildAuditRecord(decision, facts);
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

  it('is a CloudWatch EMF record whose dimensions are the decision and reason fields', () => {
    const record = buildAuditRecord({ reason: 'kid_unknown', steps: [] }, facts);
    const metrics = record._aws.CloudWatchMetrics[0]!;
    expect(metrics.Namespace).toBe(METRIC_NAMESPACE);
    for (const dimension of metrics.Dimensions.flat()) expect(record).toHaveProperty(dimension);
    for (const metric of metrics.Metrics)
      expect(typeof (record as unknown as Record<string, unknown>)[metric.Name]).toBe('number');
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
