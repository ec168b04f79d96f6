/**
 * Property-based tests (fast-check) of the security invariants: any mutation, splice or re-encoding of
 * a valid token is denied by authorize(); any configuration value validates or yields issues at a JSON
 * path, never a throw; any claim values leave policy evaluation total and unpolluted. Run counts suit a
 * 2-core CI.
 */

import { fc, it as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  type AuthorizerConfigInput,
  formatJsonPath,
  parseConfig,
  parseConfigText,
  type RoleRule,
} from '../../src/core/config/schema.ts';
import { KNOWN_OPERATIONS } from '../../src/core/contract/healthimaging.ts';
import { REASON_CODES } from '../../src/core/decision/reason-codes.ts';
import { evaluatePolicy } from '../../src/core/policy/evaluate-policy.ts';
import { b64url, makeKey, signToken } from '../support/keys.ts';
import { hygieneProblems } from '../support/log-hygiene.ts';
import { auditLine, decide, DS, pipelineDeps } from '../support/security-pipeline.ts';
import { minted, mintedTokens } from '../support/hostile-tokens.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const S = NOW / 1000;
const ISS = 'https://idp.example.org';
const AUD = 'https://dicomweb.example.org';
const RO = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';
const RW = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadWrite';
const auditLines: string[] = [];
/** Reasons the mutation property produced: proves mutations reach every stage, crypto included. */
const mutationReasons = new Set<string>();

// ── Token mutations ────────────────────────────────────────────────────────────────────────────

const [rsKey, esKey] = await Promise.all([makeKey('RS256', 'prop-rs'), makeKey('ES256', 'prop-es')]);
const claims = {
  iss: ISS,
  sub: 'user-1',
  aud: AUD,
  scope: 'dicom.read',
  iat: S - 60,
  exp: S + 600,
  jti: 'c4b5f2a0-0000-4000-8000-000000000001',
};
const tokens = [
  minted(await signToken(rsKey, claims, { typ: 'at+jwt' })),
  minted(await signToken(esKey, { ...claims, jti: 'c4b5f2a0-0000-4000-8000-000000000002' })),
];
const deps = pipelineDeps({
  nowMs: NOW,
  config: {
    issuers: [{ issuer: ISS, jwksUri: `${ISS}/jwks`, audience: AUD, algorithms: ['RS256', 'ES256'] }],
    rules: [{ name: 'readers', claims: { scope: 'dicom.read' }, operations: ['read'], roleArn: RO }],
  },
  jwks: () => ({ keys: [rsKey.jwk, esKey.jwk] }),
});

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** One character: mostly ones that keep the grammar (so the signature has to catch them), some that don't. */
const charArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...BASE64URL) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('.', '=', '+', '/', ' ', '\n', '\t', '\r', '\u00a0', '\u200b', '\uff0e'),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) },
);

type Mutation =
  | { kind: 'replace' | 'insert'; at: number; ch: string }
  | { kind: 'delete'; at: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'splice'; segment: number }
  | { kind: 'reencode'; how: Reencoding };

const REENCODINGS = [
  'pad-header',
  'pad-payload',
  'pad-signature',
  'standard-alphabet',
  'percent-encoded',
  'upper-case',
  'header-json-whitespace',
  'payload-json-reordered',
  'payload-json-escaped',
  'payload-utf16',
  'bearer-prefix',
  'trailing-newline',
] as const;
type Reencoding = (typeof REENCODINGS)[number];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('replace' as const, 'insert' as const), at: fc.nat(), ch: charArb }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc
    .record({
      kind: fc.constant('swap' as const),
      a: fc.integer({ min: 0, max: 2 }),
      b: fc.integer({ min: 0, max: 2 }),
    })
    .filter((m) => m.a !== m.b),
  fc.record({ kind: fc.constant('splice' as const), segment: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('reencode' as const), how: fc.constantFrom(...REENCODINGS) }),
);

const decodeJson = (segment: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;

function reencode(token: string, how: Reencoding): string {
  const [h = '', p = '', s = ''] = token.split('.');
  switch (how) {
    case 'pad-header':
      return `${h}=.${p}.${s}`;
    case 'pad-payload':
      return `${h}.${p}==.${s}`;
    case 'pad-signature':
      return `${h}.${p}.${s}=`;
    case 'standard-alphabet':
      return `${Buffer.from(h, 'base64url').toString('base64')}.${p}.${s}`;
    case 'percent-encoded':
      return encodeURIComponent(`${h}.${p}.${s}`).replaceAll('.', '%2E');
    case 'upper-case':
      return token.toUpperCase();
    case 'header-json-whitespace':
      return `${b64url(JSON.stringify(decodeJson(h), null, 1))}.${p}.${s}`;
    case 'payload-json-reordered':
      return `${h}.${b64url(JSON.stringify(Object.fromEntries(Object.entries(decodeJson(p)).reverse())))}.${s}`;
    case 'payload-json-escaped':
      return `${h}.${b64url(JSON.stringify(decodeJson(p)).replace('"iss"', '"\\u0069ss"'))}.${s}`;
    case 'payload-utf16':
      return `${h}.${Buffer.from(JSON.stringify(decodeJson(p)), 'utf16le').toString('base64url')}.${s}`;
    case 'bearer-prefix':
      return `Bearer ${token}`;
    case 'trailing-newline':
      return `${token}\n`;
    default: {
      const unreachable: never = how;
      return unreachable;
    }
  }
}

function mutate(token: string, other: string, m: Mutation): string {
  const at = (n: number) => n % (token.length + 1);
  switch (m.kind) {
    case 'replace': {
      const i = m.at % token.length;
      return token.slice(0, i) + m.ch + token.slice(i + 1);
    }
    case 'insert':
      return token.slice(0, at(m.at)) + m.ch + token.slice(at(m.at));
    case 'delete': {
      const i = m.at % token.length;
      return token.slice(0, i) + token.slice(i + 1);
    }
    case 'truncate':
      return token.slice(0, m.keep % token.length);
    case 'swap': {
      const segments = token.split('.');
      const a = segments[m.a] ?? '';
      segments[m.a] = segments[m.b] ?? '';
      segments[m.b] = a;
      return segments.join('.');
    }
    case 'splice': {
      const segments = token.split('.');
      segments[m.segment] = other.split('.')[m.segment] ?? '';
      return segments.join('.');
    }
    case 'reencode':
      return reencode(token, m.how);
    default: {
      const unreachable: never = m;
      return unreachable;
    }
  }
}

describe('mutations of a valid token', () => {
  it('allows both unmutated tokens (the properties below start from an accepted token)', async () => {
    // Act
    const reasons = await Promise.all(tokens.map(async (token) => (await decide(deps, token)).reason));

    // Assert
    expect(reasons).toEqual(['allowed', 'allowed']);
  });

  prop.prop([fc.integer({ min: 0, max: 1 }), mutationArb], { numRuns: 600 })(
    'denies every mutation, insertion, deletion, truncation, swap, splice or re-encoding of a valid token',
    async (which, mutation) => {
      // Arrange
      const token = tokens[which]!;
      const mutated = mutate(token, tokens[1 - which]!, mutation);
      fc.pre(mutated !== token);

      // Act
      const decision = await decide(deps, mutated);
      auditLines.push(auditLine(decision, NOW));
      mutationReasons.add(decision.reason);

      // Assert
      expect(decision.reason).not.toBe('allowed');
      expect(REASON_CODES).toContain(decision.reason);
      expect(decision.roleArn).toBeUndefined();
    },
  );

  it('reached the grammar, header, claims and signature checks with those mutations', () => {
    // Assert
    expect([...mutationReasons]).toEqual(
      expect.arrayContaining(['token_malformed', 'header_invalid', 'claims_invalid', 'signature_invalid']),
    );
  });
});

// ── Configurations ─────────────────────────────────────────────────────────────────────────────

const VALID_CONFIG: AuthorizerConfigInput = {
  issuers: [
    {
      issuer: ISS,
      jwksUri: `${ISS}/jwks`,
      audience: [AUD],
      algorithms: ['RS256'],
      clockToleranceSeconds: 30,
    },
    { issuer: 'https://kc.example.org/realms/x', clientIds: ['pacs'], tokenType: 'at+jwt' },
  ],
  rules: [
    { name: 'readers', claims: { scope: 'dicom.read' }, operations: ['read'], roleArn: RO },
    {
      name: 'writers',
      issuer: ISS,
      claims: { 'realm_access.roles': ['w', 1, true] },
      roleArn: RW,
      datastores: [DS],
    },
  ],
  datastores: [DS],
  maxTokenAgeSeconds: 3600,
};

/** Every path (as keys) to an object or array inside `value`, the root included. */
function containerPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [];
  const children = Array.isArray(value)
    ? value.flatMap((item, index) => containerPaths(item, [...path, index]))
    : Object.entries(value).flatMap(([key, item]) => containerPaths(item, [...path, key]));
  return [path, ...children];
}

function at(root: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
}

function expectPathLocatedIssues(result: ReturnType<typeof parseConfig>): void {
  if (result.ok) return;
  expect(result.issues.length).toBeGreaterThan(0);
  for (const issue of result.issues) {
    expect(issue.path).toMatch(/^\$/);
    expect(typeof issue.message).toBe('string');
    expect(issue.message.length).toBeGreaterThan(0);
  }
}

const jsonish = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('__proto__', 'constructor', '', 'RS256', 'HS256', -1, Number.POSITIVE_INFINITY),
);

describe('configuration validation', () => {
  prop.prop(
    [
      fc.anything({
        withBoxedValues: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withBigInt: true,
      }),
    ],
    { numRuns: 500 },
  )('never throws on any value and locates every issue with a JSON path', (value) => {
    // Act
    const result = parseConfig(value);

    // Assert
    expectPathLocatedIssues(result);
  });

  prop.prop([fc.string({ unit: 'binary' })], { numRuns: 300 })('never throws on any text', (text) => {
    // Act
    const result = parseConfigText(text);

    // Assert
    expect(result.ok).toBe(false);
    expectPathLocatedIssues(result);
  });

  prop.prop([fc.nat(), jsonish, fc.constantFrom('set', 'delete', 'wrap')], { numRuns: 500 })(
    'validates or locates the problem for any single change to a valid configuration',
    (pick, value, how) => {
      // Arrange
      const config = structuredClone(VALID_CONFIG) as unknown;
      const paths = containerPaths(config);
      const path = paths[pick % paths.length]!;
      const container = at(config, path) as Record<string | number, unknown>;
      const keys = Object.keys(container);
      const key = keys[pick % Math.max(keys.length, 1)];
      if (key !== undefined) {
        if (how === 'set') container[key] = value;
        else if (how === 'delete') delete container[key];
        else container[key] = [container[key]];
      }

      // Act
      const result = parseConfig(config);

      // Assert
      expectPathLocatedIssues(result);
    },
  );

  prop.prop(
    [
      fc.constantFrom<(string | number)[]>([], ['issuers', 0], ['issuers', 1], ['rules', 0], ['rules', 1]),
      fc.string({ minLength: 1, maxLength: 20 }),
      fc.jsonValue(),
    ],
    { numRuns: 300 },
  )('reports an unknown key at exactly its path', (path, name, value) => {
    // Arrange
    const known = new Set([
      ...Object.keys(VALID_CONFIG),
      'issuer',
      'jwksUri',
      'audience',
      'clientIds',
      'algorithms',
      'tokenType',
      'tenantId',
      'clockToleranceSeconds',
      'name',
      'roleArn',
      'claims',
      'operations',
      'datastores',
      '$schema',
    ]);
    fc.pre(!known.has(name));
    // A `__proto__` member nested in the value is reported on its own first (parseConfig's design).
    fc.pre(!JSON.stringify(value).includes('"__proto__"'));
    const config = structuredClone(VALID_CONFIG) as unknown;
    // defineProperty keeps a `__proto__` name an own property, as JSON.parse would.
    Object.defineProperty(at(config, path), name, {
      value,
      enumerable: true,
      configurable: true,
      writable: true,
    });

    // Act
    const result = parseConfig(config);

    // Assert
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path)).toContain(
      formatJsonPath([...path, name]),
    );
  });

  it.each([
    ['100k nested arrays', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['100k nested objects', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)],
    [
      'a rule with 100k nested claim values',
      `{"issuers":[],"rules":[{"claims":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}]}`,
    ],
  ])('rejects %s with path-located issues and no throw', (_name, text) => {
    // Act
    const result = parseConfigText(text);

    // Assert
    expect(result.ok).toBe(false);
    expectPathLocatedIssues(result);
  });
});

// ── Policy evaluation ──────────────────────────────────────────────────────────────────────────

const parsedRules = parseConfig({
  issuers: [{ issuer: ISS, audience: AUD }],
  rules: [
    { name: 'scope-read', claims: { scope: 'dicom.read' }, operations: ['read'], roleArn: RO },
    { name: 'scp-write', claims: { scp: ['Dicom.Write', 'Dicom.ReadWrite'] }, roleArn: RW },
    { name: 'keycloak', claims: { 'realm_access.roles': 'user', azp: 'pacs' }, roleArn: RO },
    {
      name: 'nested',
      claims: { 'resource_access.dicom-api.roles': 'writer' },
      operations: ['write'],
      roleArn: RW,
    },
    { name: 'cognito', claims: { 'cognito:groups': 'radiology' }, datastores: [DS], roleArn: RO },
    { name: 'typed', claims: { level: 3, admin: true }, roleArn: RW },
    { name: 'named', claims: { 'a.b': 'exact' }, issuer: ISS, roleArn: RO },
  ],
});
if (!parsedRules.ok) throw new Error('policy rules invalid');
const RULES: readonly RoleRule[] = parsedRules.config.rules;
const MATCHING_VALUES = [
  'dicom.read',
  'Dicom.Write',
  'user',
  'pacs',
  'writer',
  'radiology',
  'exact',
  3,
  true,
];

const claimKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'scope',
    'scp',
    'azp',
    'realm_access',
    'roles',
    'resource_access',
    'dicom-api',
    'cognito:groups',
    'a.b',
    'a',
    'b',
    'level',
    'admin',
  ),
  fc.string({ maxLength: 12 }),
);
const scalar = fc.oneof(
  fc.constantFrom(...MATCHING_VALUES, 'dicom.read dicom.write', '  dicom.read  ', 'DICOM.READ', null),
  fc.string(),
  fc.double(),
  fc.boolean(),
);

/** Builds an object with own properties only (a `__proto__` name included), as JSON.parse does. */
const ownObject = (entries: [string, unknown][]): Record<string, unknown> => {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    Object.defineProperty(object, key, { value, enumerable: true, configurable: true, writable: true });
  }
  return object;
};

const { claimValue } = fc.letrec<{ claimValue: unknown }>((tie) => ({
  claimValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('claimValue'), { maxLength: 6 }),
    fc.array(fc.tuple(claimKey, tie('claimValue')), { maxLength: 6 }).map(ownObject),
  ),
}));
const claimsArb = fc.array(fc.tuple(claimKey, claimValue), { maxLength: 12 }).map(ownObject);
const operationArb = fc.constantFrom(...KNOWN_OPERATIONS, 'FutureOperation');
const datastoreArb = fc.constantFrom(DS, 'ffffffffffffffffffffffffffffffff');

const policy = (claimsValue: Record<string, unknown>, operation: string, datastoreId: string) =>
  evaluatePolicy({ claims: claimsValue, issuer: ISS, operation, datastoreId, rules: RULES });

describe('policy evaluation with arbitrary claims', () => {
  prop.prop([claimsArb, operationArb, datastoreArb], { numRuns: 500 })(
    'always returns one of its three outcomes, with a trace, and never pollutes prototypes',
    (claimsValue, operation, datastoreId) => {
      // Act
      const outcome = policy(claimsValue, operation, datastoreId);

      // Assert
      expect(['allowed', 'no_role_mapping', 'operation_not_permitted']).toContain(outcome.reason);
      expect(outcome.trace.length).toBeGreaterThan(0);
      expect(outcome.trace.length).toBeLessThanOrEqual(RULES.length);
      if (outcome.reason === 'allowed') {
        expect(outcome.trace.at(-1)).toMatchObject({
          outcome: 'matched',
          rule: outcome.rule,
          roleArn: outcome.roleArn,
        });
      }
      expect(Object.keys(Object.prototype)).toEqual([]);
      expect(Object.keys(Array.prototype)).toEqual([]);
    },
  );

  prop.prop([claimsArb, fc.array(fc.tuple(claimKey, claimValue), { maxLength: 8 }), operationArb], {
    numRuns: 300,
  })('never grants a role through an inherited property', (own, inherited, operation) => {
    // Arrange: the same own claims, once on a prototype full of matching values.
    const poisoned = Object.create(
      ownObject([
        ...inherited,
        ['scope', 'dicom.read'],
        ['scp', 'Dicom.Write'],
        ['level', 3],
        ['admin', true],
      ]),
    ) as Record<string, unknown>;
    for (const [key, value] of Object.entries(own)) {
      Object.defineProperty(poisoned, key, { value, enumerable: true, configurable: true, writable: true });
    }

    // Act
    const plain = policy(own, operation, DS);
    const withPrototype = policy(poisoned, operation, DS);

    // Assert: whatever the prototype offers, a grant must come from the own claims (it may only
    // fail closed: a non-plain root is not walked for dotted paths).
    if (withPrototype.reason === 'allowed') {
      expect(plain).toMatchObject({ reason: 'allowed', rule: withPrototype.rule });
    }
  });

  it('never matches through a __proto__ or constructor claim of a JSON payload', () => {
    // Arrange
    const payload = JSON.parse(
      '{"__proto__":{"scope":"dicom.read","level":3,"admin":true},"constructor":{"prototype":{"scp":"Dicom.Write"}}}',
    ) as Record<string, unknown>;

    // Act
    const outcome = policy(payload, 'GetDICOMInstance', DS);

    // Assert
    expect(outcome.reason).toBe('no_role_mapping');
  });

  it('stays total on a claim nested 100k levels deep', () => {
    // Arrange
    let deep: unknown = 'user';
    for (let i = 0; i < 100_000; i += 1) deep = { roles: deep };
    const claimsValue = ownObject([
      ['realm_access', deep],
      ['resource_access', deep],
    ]);

    // Act
    const outcome = policy(claimsValue, 'GetDICOMInstance', DS);

    // Assert
    expect(outcome.reason).toBe('no_role_mapping');
  });

  it('considers only the first 1000 values of a huge array or scope string', () => {
    // Arrange
    const huge = Array.from({ length: 1_000_000 }, (_, i) => `r${i}`);
    const early = ownObject([
      ['realm_access', { roles: ['user', ...huge] }],
      ['azp', 'pacs'],
    ]);
    const late = ownObject([
      ['realm_access', { roles: [...huge, 'user'] }],
      ['azp', 'pacs'],
    ]);
    const longScope = ownObject([['scope', `${'x '.repeat(500_000)}dicom.read`]]);

    // Act
    const outcomes = [early, late, longScope].map((c) => policy(c, 'GetDICOMInstance', DS).reason);

    // Assert
    expect(outcomes).toEqual(['allowed', 'no_role_mapping', 'no_role_mapping']);
  });

  it('stays total on exotic values a JSON payload cannot hold (getters, proxies, revoked proxies)', () => {
    // Arrange
    const throwing = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
        getOwnPropertyDescriptor: () => {
          throw new Error('trap');
        },
        has: () => {
          throw new Error('trap');
        },
        ownKeys: () => {
          throw new Error('trap');
        },
        getPrototypeOf: () => {
          throw new Error('trap');
        },
      },
    );
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const getter = {};
    Object.defineProperty(getter, 'scope', {
      enumerable: true,
      get: () => {
        throw new Error('getter');
      },
    });
    const values = [throwing, revoked.proxy, getter, ownObject([['realm_access', throwing]])];

    // Act
    const outcomes = values.map(
      (value) => policy(value as Record<string, unknown>, 'GetDICOMInstance', DS).reason,
    );

    // Assert
    expect(outcomes).toEqual(['no_role_mapping', 'no_role_mapping', 'no_role_mapping', 'no_role_mapping']);
  });
});

describe('log hygiene of the property runs', () => {
  it('writes audit lines with no token segment, control character or unbounded field for any mutation', () => {
    // Assert
    expect(auditLines.length).toBeGreaterThan(100);
    expect(hygieneProblems(auditLines, { secrets: [], tokens: mintedTokens })).toEqual([]);
  });
});
