/**
 * Role-rule evaluation (docs/configuration.md): the example config
 * (examples/config.example.json) with realistic Entra ID and Keycloak claims (as in
 * test/support/fixtures/seed-tokens.ts), exact typed matching, operation and datastore scoping,
 * first-match order (rows 63-66 of test/security/catalogue.test.ts) and the explain trace.
 */

import { describe, expect, it } from 'vitest';
import { parseConfig, type RoleRule } from '../../src/core/config/schema.ts';
import {
  KNOWN_OPERATIONS,
  READ_OPERATIONS,
  WRITE_OPERATIONS,
} from '../../src/core/contract/healthimaging.ts';
import {
  evaluatePolicy,
  isOperationNamedByRules,
  type PolicyInput,
  ruleCoversOperation,
} from '../../src/core/policy/evaluate-policy.ts';

const ENTRA = 'https://sts.windows.net/00000000-0000-0000-0000-000000000001/';
const KEYCLOAK = 'https://keycloak.example.org/realms/dcm4che';
const DATASTORE = '0123456789abcdef0123456789abcdef';
const OTHER_DATASTORE = 'fedcba9876543210fedcba9876543210';
const READ_WRITE = 'arn:aws:iam::111122223333:role/AhiReadWrite';
const READ_ONLY = 'arn:aws:iam::111122223333:role/AhiReadOnly';

/** Builds rules through the real config parser, so schema defaults and checks apply. */
function rulesFrom(rules: unknown[]): RoleRule[] {
  const parsed = parseConfig({
    issuers: [
      { issuer: ENTRA, audience: 'api://ahi-dicomweb', tenantId: '00000000-0000-0000-0000-000000000001' },
      { issuer: KEYCLOAK, clientIds: ['pacs-gateway'] },
    ],
    rules,
  });
  if (!parsed.ok) throw new Error(`test config invalid: ${JSON.stringify(parsed.issues)}`);
  return parsed.config.rules;
}

function rule(name: string, claims: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return { name, roleArn: READ_WRITE, claims, ...extra };
}

function input(
  claims: Record<string, unknown>,
  rules: readonly RoleRule[],
  overrides: Partial<Omit<PolicyInput, 'claims' | 'rules'>> = {},
): PolicyInput {
  return {
    claims,
    rules,
    issuer: ENTRA,
    operation: 'GetDICOMInstance',
    datastoreId: DATASTORE,
    ...overrides,
  };
}

/** The rules of examples/config.example.json (names, claims and operations verbatim). */
const EXAMPLE_RULES = rulesFrom([
  {
    name: 'radiologists',
    claims: { scp: 'Dicom.ReadWrite' },
    roleArn: READ_WRITE,
  },
  { name: 'pacs-app', claims: { idtyp: 'app', roles: 'DICOM.Writer' }, roleArn: READ_WRITE },
  {
    name: 'keycloak-readers',
    claims: { 'realm_access.roles': 'user' },
    operations: ['read'],
    roleArn: READ_ONLY,
  },
]);

/** Entra ID v1 user token (password grant, shaped like a real one), moved to the example tenant. */
const ENTRA_USER = {
  aud: 'api://ahi-dicomweb',
  iss: ENTRA,
  iat: 1741772885,
  nbf: 1741772885,
  exp: 1741777921,
  acr: '1',
  amr: ['pwd'],
  appid: '55fe42ed-27e9-45ea-9c98-3401075e54cf',
  appidacr: '1',
  idtyp: 'user',
  oid: '8076b46f-ffeb-4e37-9626-03421edc12bf',
  scp: 'Dicom.ReadWrite openid',
  sub: 'wjns8P2Zm5wNRcsQzQkXKflFtIVpIzQcv_yyoaDNcaY',
  tid: '00000000-0000-0000-0000-000000000001',
  ver: '1.0',
};

/** Entra ID v1 client-credentials token: an app token carries no `scp`, and here no roles. */
const ENTRA_APP_WITHOUT_ROLES = {
  aud: 'api://ahi-dicomweb',
  iss: ENTRA,
  iat: 1741784077,
  nbf: 1741784077,
  exp: 1741787977,
  appid: '55fe42ed-27e9-45ea-9c98-3401075e54cf',
  appidacr: '2',
  idtyp: 'app',
  oid: '39e2584e-962e-4f91-b6e1-538c04960f50',
  sub: '39e2584e-962e-4f91-b6e1-538c04960f50',
  tid: '00000000-0000-0000-0000-000000000001',
  ver: '1.0',
};

/** The same app after an app role was assigned to its service principal. */
const ENTRA_APP_WITH_ROLES = { ...ENTRA_APP_WITHOUT_ROLES, roles: ['DICOM.Writer'] };

/** Keycloak client-credentials token for a service account. */
const KEYCLOAK_SERVICE_ACCOUNT = {
  exp: 1681480525,
  iat: 1681480225,
  jti: '0cfdd0b5-88f8-4188-b763-b625abe0c6b8',
  iss: KEYCLOAK,
  sub: '24c78e9d-36c3-49a1-bf5d-180e7fe37f32',
  typ: 'Bearer',
  azp: 'pacs-gateway',
  acr: '1',
  realm_access: { roles: ['offline_access', 'default-roles-dcm4che', 'uma_authorization', 'user'] },
  scope: 'profile email',
  email_verified: false,
  clientId: 'pacs-gateway',
  preferred_username: 'service-account-pacs-gateway',
};

describe('evaluatePolicy with the example config', () => {
  it('allows an Entra user token whose scp contains Dicom.ReadWrite via radiologists', () => {
    // Arrange
    const request = input(ENTRA_USER, EXAMPLE_RULES, { operation: 'StoreDICOM' });

    // Act
    const outcome = evaluatePolicy(request);

    // Assert
    expect(outcome).toMatchObject({ reason: 'allowed', rule: 'radiologists', roleArn: READ_WRITE });
    expect(outcome.trace.map((entry) => entry.outcome)).toEqual(['matched']);
  });

  it('allows an Entra app token with idtyp app and the DICOM.Writer app role via pacs-app', () => {
    // Arrange
    const request = input(ENTRA_APP_WITH_ROLES, EXAMPLE_RULES, { operation: 'StoreDICOMStudy' });

    // Act
    const outcome = evaluatePolicy(request);

    // Assert
    expect(outcome).toMatchObject({ reason: 'allowed', rule: 'pacs-app', roleArn: READ_WRITE });
    expect(outcome.trace.map((entry) => [entry.rule, entry.outcome])).toEqual([
      ['radiologists', 'claims_mismatch'],
      ['pacs-app', 'matched'],
    ]);
  });

  it('denies the seed client-credentials token with no_role_mapping and shows roles absent', () => {
    // Arrange
    const request = input(ENTRA_APP_WITHOUT_ROLES, EXAMPLE_RULES);

    // Act
    const outcome = evaluatePolicy(request);

    // Assert
    expect(outcome.reason).toBe('no_role_mapping');
    expect(outcome.trace.map((entry) => entry.outcome)).toEqual([
      'claims_mismatch',
      'claims_mismatch',
      'claims_mismatch',
    ]);
    expect(outcome.trace[1]?.conditions).toEqual([
      {
        path: 'idtyp',
        expected: ['app'],
        holds: true,
        found: true,
        actualType: 'string',
        actualSample: ['app'],
      },
      { path: 'roles', expected: ['DICOM.Writer'], holds: false, found: false, actualType: 'absent' },
    ]);
  });

  it('allows a Keycloak service account with realm role user to read via keycloak-readers', () => {
    // Arrange
    const request = input(KEYCLOAK_SERVICE_ACCOUNT, EXAMPLE_RULES, {
      issuer: KEYCLOAK,
      operation: 'SearchDICOMStudies',
    });

    // Act
    const outcome = evaluatePolicy(request);

    // Assert
    expect(outcome).toMatchObject({ reason: 'allowed', rule: 'keycloak-readers', roleArn: READ_ONLY });
  });

  it('denies a Keycloak service account StoreDICOM with operation_not_permitted', () => {
    // Arrange
    const request = input(KEYCLOAK_SERVICE_ACCOUNT, EXAMPLE_RULES, {
      issuer: KEYCLOAK,
      operation: 'StoreDICOM',
    });

    // Act
    const outcome = evaluatePolicy(request);

    // Assert
    expect(outcome.reason).toBe('operation_not_permitted');
    expect(outcome.trace.map((entry) => [entry.rule, entry.outcome])).toEqual([
      ['radiologists', 'claims_mismatch'],
      ['pacs-app', 'claims_mismatch'],
      ['keycloak-readers', 'operation_mismatch'],
    ]);
  });

  it('denies a user token whose scope differs only in case with no_role_mapping', () => {
    // Arrange
    const claims = { ...ENTRA_USER, scp: 'dicom.readwrite openid' };

    // Act
    const outcome = evaluatePolicy(input(claims, EXAMPLE_RULES));

    // Assert
    expect(outcome.reason).toBe('no_role_mapping');
  });
});

describe('evaluatePolicy claim matching', () => {
  it('matches exact top-level claim names containing colons, slashes and dots', () => {
    // Arrange
    const rules = rulesFrom([
      rule('cognito', { 'cognito:groups': 'radiology' }),
      rule('namespaced', { 'https://example.com/roles': 'reader' }),
    ]);

    // Act
    const cognito = evaluatePolicy(input({ 'cognito:groups': ['radiology', 'admin'] }, rules));
    const namespaced = evaluatePolicy(input({ 'https://example.com/roles': 'reader' }, rules));

    // Assert
    expect(cognito).toMatchObject({ reason: 'allowed', rule: 'cognito' });
    expect(namespaced).toMatchObject({ reason: 'allowed', rule: 'namespaced' });
  });

  it('matches a nested path such as resource_access.dicom-api.roles', () => {
    // Arrange
    const rules = rulesFrom([rule('client-role', { 'resource_access.dicom-api.roles': 'viewer' })]);
    const claims = { resource_access: { 'dicom-api': { roles: ['viewer'] }, account: { roles: ['x'] } } };

    // Act
    const outcome = evaluatePolicy(input(claims, rules));

    // Assert
    expect(outcome).toMatchObject({ reason: 'allowed', rule: 'client-role' });
  });

  it('splits scp and scope only at the top level, never a nested scp string', () => {
    // Arrange
    const rules = rulesFrom([
      rule('nested-scp', { 'x.scp': 'Dicom.Read' }),
      rule('scope', { scope: 'Dicom.Read' }),
    ]);

    // Act
    const nested = evaluatePolicy(input({ x: { scp: 'Dicom.Read openid' } }, rules));
    const topLevel = evaluatePolicy(input({ scope: 'openid   Dicom.Read' }, rules));

    // Assert
    expect(nested.reason).toBe('no_role_mapping');
    expect(topLevel).toMatchObject({ reason: 'allowed', rule: 'scope' });
  });

  it('does not split a space-separated string in any other claim', () => {
    // Arrange
    const rules = rulesFrom([rule('groups', { groups: 'radiology' })]);

    // Act
    const outcome = evaluatePolicy(input({ groups: 'radiology admin' }, rules));

    // Assert
    expect(outcome.reason).toBe('no_role_mapping');
  });

  it('matches by exact JSON type: 1 never matches "1" and true never matches "true"', () => {
    // Arrange
    const rules = rulesFrom([
      rule('number', { level: 1 }),
      rule('string', { level: '1' }),
      rule('boolean', { verified: true }),
    ]);

    // Act
    const numberClaim = evaluatePolicy(input({ level: 1 }, rules));
    const stringClaim = evaluatePolicy(input({ level: '1' }, rules));
    const stringTrue = evaluatePolicy(input({ verified: 'true' }, rules));
    const arrayOfNumbers = evaluatePolicy(input({ level: [2, '3', 1] }, rules));
    const booleanTrue = evaluatePolicy(input({ verified: [true] }, rules));

    // Assert
    expect(numberClaim).toMatchObject({ reason: 'allowed', rule: 'number' });
    expect(stringClaim).toMatchObject({ reason: 'allowed', rule: 'string' });
    expect(stringTrue.reason).toBe('no_role_mapping');
    expect(arrayOfNumbers).toMatchObject({ reason: 'allowed', rule: 'number' });
    expect(booleanTrue).toMatchObject({ reason: 'allowed', rule: 'boolean' });
  });

  it('compares strings exactly, without Unicode normalisation or trimming', () => {
    // Arrange
    const rules = rulesFrom([rule('accented', { groups: 'r\u00e9sidents' })]);

    // Act
    const decomposed = evaluatePolicy(input({ groups: ['re\u0301sidents'] }, rules));
    const padded = evaluatePolicy(input({ groups: ['r\u00e9sidents '] }, rules));
    const exact = evaluatePolicy(input({ groups: ['r\u00e9sidents'] }, rules));

    // Assert
    expect(decomposed.reason).toBe('no_role_mapping');
    expect(padded.reason).toBe('no_role_mapping');
    expect(exact.reason).toBe('allowed');
  });

  it('holds a condition when any of its listed values is among the claim values', () => {
    // Arrange
    const rules = rulesFrom([rule('any-of', { groups: ['a', 'b', 'c'] })]);

    // Act
    const outcome = evaluatePolicy(input({ groups: ['x', 'c'] }, rules));

    // Assert
    expect(outcome).toMatchObject({ reason: 'allowed', rule: 'any-of' });
  });

  it('requires every condition of a rule to hold', () => {
    // Arrange
    const rules = rulesFrom([rule('both', { idtyp: 'app', roles: 'DICOM.Writer' })]);

    // Act
    const onlyOne = evaluatePolicy(input({ idtyp: 'user', roles: ['DICOM.Writer'] }, rules));

    // Assert
    expect(onlyOne.reason).toBe('no_role_mapping');
  });

  it('matches nothing for object, null or non-scalar array claim values', () => {
    // Arrange
    const rules = rulesFrom([rule('groups', { groups: 'radiology' })]);
    const shapes: unknown[] = [{ radiology: true }, null, [['radiology']], [{ name: 'radiology' }]];

    // Act
    const reasons = shapes.map((groups) => evaluatePolicy(input({ groups }, rules)).reason);

    // Assert
    expect(reasons).toEqual(['no_role_mapping', 'no_role_mapping', 'no_role_mapping', 'no_role_mapping']);
  });
});

describe('evaluatePolicy on hostile claims', () => {
  it('never matches __proto__ or constructor and never pollutes Object.prototype', () => {
    // Arrange: rules built directly, because the config schema rightly refuses these paths.
    const rules: RoleRule[] = [
      {
        name: 'proto',
        roleArn: READ_WRITE,
        claims: JSON.parse('{"__proto__.admin": true}') as RoleRule['claims'],
      },
      { name: 'ctor', roleArn: READ_WRITE, claims: JSON.parse('{"constructor": "x"}') as RoleRule['claims'] },
      { name: 'inherited', roleArn: READ_WRITE, claims: { admin: true } },
    ];
    const claims = JSON.parse('{"__proto__":{"admin":true},"constructor":"x"}') as Record<string, unknown>;

    // Act
    const outcome = evaluatePolicy(input(claims, rules));

    // Assert
    expect(outcome.reason).toBe('no_role_mapping');
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
    expect(Object.getPrototypeOf(claims)).toBe(Object.prototype);
  });

  it('does not find inherited Object.prototype members such as toString', () => {
    // Arrange
    const rules: RoleRule[] = [{ name: 'inherited', roleArn: READ_WRITE, claims: { toString: 'x' } }];

    // Act
    const outcome = evaluatePolicy(input({ sub: 'abc' }, rules));

    // Assert
    expect(outcome.reason).toBe('no_role_mapping');
    expect(outcome.trace[0]?.conditions[0]).toMatchObject({ found: false, actualType: 'absent' });
  });

  it('does not throw on deep nesting, non-plain values, getters and proxies', () => {
    // Arrange
    let deep: Record<string, unknown> = { roles: ['x'] };
    for (let level = 0; level < 50_000; level += 1) deep = { n: deep };
    const throwing = {};
    Object.defineProperty(throwing, 'roles', {
      enumerable: true,
      get() {
        throw new Error('getter ran');
      },
    });
    const claims: Record<string, unknown> = {
      deep,
      groups: new Proxy([], {
        get() {
          throw new Error('trap');
        },
      }),
      realm_access: throwing,
      resource_access: new Map([['dicom-api', { roles: ['viewer'] }]]),
      big: 10n,
      fn: () => 'viewer',
      sym: Symbol('viewer'),
    };
    const rules = rulesFrom([
      rule('deep', { 'deep.n.n.n.roles': 'x' }),
      rule('groups', { groups: 'viewer' }),
      rule('realm', { 'realm_access.roles': 'viewer' }),
      rule('client', { 'resource_access.dicom-api.roles': 'viewer' }),
      rule('odd', { big: 10, fn: 'viewer', sym: 'viewer' }),
    ]);

    // Act
    const run = () => evaluatePolicy(input(claims, rules));

    // Assert
    expect(run).not.toThrow();
    expect(run().reason).toBe('no_role_mapping');
    expect(run().trace[4]?.conditions.map((condition) => condition.actualType)).toEqual([
      'object',
      'object',
      'object',
    ]);
  });

  it('evaluates 10,000 groups without throwing, considering only the first 1000', () => {
    // Arrange
    const groups = Array.from({ length: 10_000 }, (_, index) => `group-${index}`);
    const rules = rulesFrom([rule('late', { groups: 'group-9999' }), rule('early', { groups: 'group-999' })]);

    // Act
    const outcome = evaluatePolicy(input({ groups }, rules));

    // Assert
    expect(outcome).toMatchObject({ reason: 'allowed', rule: 'early' });
    expect(outcome.trace[0]?.outcome).toBe('claims_mismatch');
  });

  it('leaves frozen claims and rules untouched and gives the same answer twice', () => {
    // Arrange
    const claims = Object.freeze({ ...ENTRA_USER, amr: Object.freeze(['pwd']) });
    const rules = Object.freeze(EXAMPLE_RULES.map((entry) => Object.freeze(entry)));
    const before = JSON.stringify({ claims, rules });

    // Act
    const first = evaluatePolicy(input(claims, rules));
    const second = evaluatePolicy(input(claims, rules));

    // Assert
    expect(second).toEqual(first);
    expect(JSON.stringify({ claims, rules })).toBe(before);
  });
});

describe('evaluatePolicy operations, datastores and issuers', () => {
  it('allows an unknown operation that a rule names explicitly', () => {
    // Arrange
    const rules = rulesFrom([rule('future', { groups: 'pacs' }, { operations: ['DeleteDICOMStudy'] })]);

    // Act
    const outcome = evaluatePolicy(input({ groups: ['pacs'] }, rules, { operation: 'DeleteDICOMStudy' }));

    // Assert
    expect(outcome).toMatchObject({ reason: 'allowed', rule: 'future' });
  });

  it('does not let a rule without operations cover an unknown operation', () => {
    // Arrange
    const rules = rulesFrom([rule('default-ops', { groups: 'pacs' })]);

    // Act
    const outcome = evaluatePolicy(input({ groups: ['pacs'] }, rules, { operation: 'DeleteDICOMStudy' }));

    // Assert
    expect(outcome.reason).toBe('operation_not_permitted');
    expect(outcome.trace[0]?.outcome).toBe('operation_mismatch');
  });

  it('denies a write with a read-only rule with operation_not_permitted', () => {
    // Arrange
    const rules = rulesFrom([rule('readers', { scp: 'Dicom.Read' }, { operations: ['read'] })]);

    // Act
    const outcome = evaluatePolicy(input({ scp: 'Dicom.Read' }, rules, { operation: 'StoreDICOMStudy' }));

    // Assert
    expect(outcome.reason).toBe('operation_not_permitted');
  });

  it('denies another datastore with operation_not_permitted and allows the listed one', () => {
    // Arrange
    const rules = rulesFrom([rule('one-store', { groups: 'pacs' }, { datastores: [DATASTORE] })]);

    // Act
    const other = evaluatePolicy(input({ groups: ['pacs'] }, rules, { datastoreId: OTHER_DATASTORE }));
    const listed = evaluatePolicy(input({ groups: ['pacs'] }, rules, { datastoreId: DATASTORE }));

    // Assert
    expect(other.reason).toBe('operation_not_permitted');
    expect(other.trace[0]?.outcome).toBe('datastore_mismatch');
    expect(listed).toMatchObject({ reason: 'allowed', rule: 'one-store' });
  });

  it('skips an issuer-scoped rule for tokens from another issuer, with no_role_mapping', () => {
    // Arrange
    const rules = rulesFrom([
      rule('entra-only', { groups: 'pacs' }, { issuer: ENTRA, operations: ['read'] }),
    ]);

    // Act
    const fromKeycloak = evaluatePolicy(input({ groups: ['pacs'] }, rules, { issuer: KEYCLOAK }));
    const writeFromKeycloak = evaluatePolicy(
      input({ groups: ['pacs'] }, rules, { issuer: KEYCLOAK, operation: 'StoreDICOM' }),
    );
    const fromEntra = evaluatePolicy(input({ groups: ['pacs'] }, rules, { issuer: ENTRA }));

    // Assert
    expect(fromKeycloak.reason).toBe('no_role_mapping');
    expect(fromKeycloak.trace[0]?.outcome).toBe('issuer_mismatch');
    expect(writeFromKeycloak.reason).toBe('no_role_mapping');
    expect(fromEntra).toMatchObject({ reason: 'allowed', rule: 'entra-only' });
  });

  it('lets a later rule allow after an earlier rule matched claims but not the operation', () => {
    // Arrange
    const rules = rulesFrom([
      rule('readers', { groups: 'pacs' }, { operations: ['read'], roleArn: READ_ONLY }),
      rule('writers', { groups: 'pacs' }, { operations: ['write'] }),
    ]);

    // Act
    const outcome = evaluatePolicy(input({ groups: ['pacs'] }, rules, { operation: 'StoreDICOM' }));

    // Assert
    expect(outcome).toMatchObject({ reason: 'allowed', rule: 'writers', roleArn: READ_WRITE });
    expect(outcome.trace.map((entry) => entry.outcome)).toEqual(['operation_mismatch', 'matched']);
  });

  it('lets the first of two matching rules decide and stops evaluating there', () => {
    // Arrange
    const readOnlyFirst = rulesFrom([
      rule('read-only', { groups: 'pacs' }, { roleArn: READ_ONLY }),
      rule('read-write', { groups: 'pacs' }),
    ]);
    const readWriteFirst = rulesFrom([
      rule('read-write', { groups: 'pacs' }),
      rule('read-only', { groups: 'pacs' }, { roleArn: READ_ONLY }),
    ]);

    // Act
    const first = evaluatePolicy(input({ groups: ['pacs'] }, readOnlyFirst));
    const swapped = evaluatePolicy(input({ groups: ['pacs'] }, readWriteFirst));

    // Assert
    expect(first).toMatchObject({ reason: 'allowed', rule: 'read-only', roleArn: READ_ONLY });
    expect(first.trace).toHaveLength(1);
    expect(swapped).toMatchObject({ reason: 'allowed', rule: 'read-write', roleArn: READ_WRITE });
  });
});

describe('evaluatePolicy trace', () => {
  it('records every condition of a rule even after one fails', () => {
    // Arrange
    const rules = rulesFrom([
      rule('three', { missing: 'x', idtyp: 'app', 'realm_access.roles': ['user', 'admin'] }),
    ]);
    const claims = { idtyp: 'user', realm_access: { roles: ['offline_access', 'user'] } };

    // Act
    const outcome = evaluatePolicy(input(claims, rules));

    // Assert
    expect(outcome.trace).toEqual([
      {
        rule: 'three',
        roleArn: READ_WRITE,
        outcome: 'claims_mismatch',
        conditions: [
          { path: 'missing', expected: ['x'], holds: false, found: false, actualType: 'absent' },
          {
            path: 'idtyp',
            expected: ['app'],
            holds: false,
            found: true,
            actualType: 'string',
            actualSample: ['user'],
          },
          {
            path: 'realm_access.roles',
            expected: ['user', 'admin'],
            holds: true,
            found: true,
            actualType: 'array',
            actualSample: ['offline_access', 'user'],
          },
        ],
      },
    ]);
  });

  it('records conditions for a rule skipped because of its issuer', () => {
    // Arrange
    const rules = rulesFrom([rule('keycloak-only', { groups: 'pacs' }, { issuer: KEYCLOAK })]);

    // Act
    const outcome = evaluatePolicy(input({ groups: ['pacs'] }, rules, { issuer: ENTRA }));

    // Assert
    expect(outcome.trace[0]).toMatchObject({
      outcome: 'issuer_mismatch',
      conditions: [{ path: 'groups', holds: true, found: true }],
    });
  });

  it('caps the sample at 10 values and 64 characters per string', () => {
    // Arrange
    const groups = Array.from({ length: 50 }, (_, index) => `${'g'.repeat(100)}-${index}`);
    const rules = rulesFrom([rule('groups', { groups: 'nope' })]);

    // Act
    const outcome = evaluatePolicy(input({ groups }, rules));

    // Assert
    const sample = outcome.trace[0]?.conditions[0]?.actualSample;
    expect(sample).toHaveLength(10);
    expect(sample?.every((value) => typeof value === 'string' && value.length === 64)).toBe(true);
  });

  it('reports null and object claim types with an empty sample', () => {
    // Arrange
    const rules = rulesFrom([rule('shapes', { a: 'x', b: 'x', c: 'x' })]);

    // Act
    const outcome = evaluatePolicy(input({ a: null, b: { x: 'x' }, c: 1 }, rules));

    // Assert
    expect(outcome.trace[0]?.conditions.map((c) => [c.actualType, c.actualSample])).toEqual([
      ['null', []],
      ['object', []],
      ['number', [1]],
    ]);
  });
});

describe('ruleCoversOperation', () => {
  it('covers every known operation, and nothing else, when a rule lists no operations', () => {
    // Arrange
    const [defaults] = rulesFrom([rule('defaults', { groups: 'pacs' })]);

    // Act
    const known = KNOWN_OPERATIONS.map((operation) => ruleCoversOperation(defaults!, operation));
    const unknown = ['DeleteDICOMStudy', 'read', 'write', '', 'getdicominstance'].map((operation) =>
      ruleCoversOperation(defaults!, operation),
    );

    // Assert
    expect(known.every(Boolean)).toBe(true);
    expect(unknown.some(Boolean)).toBe(false);
  });

  it('covers exactly its class for read and write entries', () => {
    // Arrange
    const [reader, writer] = rulesFrom([
      rule('reader', { groups: 'pacs' }, { operations: ['read'] }),
      rule('writer', { groups: 'pacs' }, { operations: ['write'] }),
    ]);

    // Act
    const readerReads = READ_OPERATIONS.map((operation) => ruleCoversOperation(reader!, operation));
    const readerWrites = WRITE_OPERATIONS.map((operation) => ruleCoversOperation(reader!, operation));
    const writerWrites = WRITE_OPERATIONS.map((operation) => ruleCoversOperation(writer!, operation));
    const writerReads = READ_OPERATIONS.map((operation) => ruleCoversOperation(writer!, operation));

    // Assert
    expect(readerReads.every(Boolean)).toBe(true);
    expect(readerWrites.some(Boolean)).toBe(false);
    expect(writerWrites.every(Boolean)).toBe(true);
    expect(writerReads.some(Boolean)).toBe(false);
  });

  it('covers only the exact operation names a rule lists, known or not', () => {
    // Arrange
    const [named] = rulesFrom([
      rule('named', { groups: 'pacs' }, { operations: ['GetDICOMInstance', 'DeleteDICOMStudy'] }),
    ]);

    // Act
    const covered = ['GetDICOMInstance', 'DeleteDICOMStudy'].map((op) => ruleCoversOperation(named!, op));
    const notCovered = ['GetDICOMInstanceFrames', 'StoreDICOM', 'getDICOMInstance'].map((op) =>
      ruleCoversOperation(named!, op),
    );

    // Assert
    expect(covered).toEqual([true, true]);
    expect(notCovered).toEqual([false, false, false]);
  });
});

describe('isOperationNamedByRules', () => {
  it('is true only for an exact operation name listed by some rule', () => {
    // Arrange
    const rules = rulesFrom([
      rule('classes', { groups: 'pacs' }, { operations: ['read', 'write'] }),
      rule('defaults', { groups: 'pacs' }),
      rule('future', { groups: 'pacs' }, { operations: ['DeleteDICOMStudy'] }),
    ]);

    // Act
    const named = isOperationNamedByRules(rules, 'DeleteDICOMStudy');
    const unnamed = ['UpdateDICOMStudy', 'read', 'write', 'deletedicomstudy'].map((op) =>
      isOperationNamedByRules(rules, op),
    );

    // Assert
    expect(named).toBe(true);
    expect(unnamed).toEqual([false, false, false, false]);
  });
});
