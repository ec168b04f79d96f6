/**
 * The hint tables: every entry fires for the situation it is written for (one case per entry, so
 * a new entry without a case fails the coverage test), specific entries silence the fallbacks,
 * and issuer comparisons recognise Entra v1/v2, tenants, trailing slashes and Keycloak realms.
 */

import { describe, expect, it } from 'vitest';
import {
  CONDITION_HINTS,
  type ConditionHintContext,
  conditionHints,
  DECISION_HINTS,
  type DecisionHintContext,
  decisionHints,
  issuerMismatchHints,
} from '../../src/tools/cli/shared/hints.ts';
import { type AuthorizerConfig, parseConfig } from '../../src/core/config/schema.ts';
import type { ConditionResult } from '../../src/core/policy/evaluate-policy.ts';
import {
  API_APP_ID,
  APP_ID,
  ENTRA_V1,
  ENTRA_V2,
  entraAppPayload,
  entraConfig,
  entraUserPayload,
  keycloakPayload,
  NOW,
  OBJECT_ID,
  TENANT,
} from '../support/fixtures/seed-tokens.ts';

function config(): AuthorizerConfig {
  const parsed = parseConfig(entraConfig());
  if (!parsed.ok) throw new Error('fixture config invalid');
  return parsed.config;
}

function decision(overrides: Partial<DecisionHintContext>): DecisionHintContext {
  const base = config();
  return {
    reason: 'no_role_mapping',
    detail: '',
    config: base,
    configFile: 'config.json',
    nowMs: NOW,
    ...overrides,
  };
}

function condition(path: string, overrides: Partial<ConditionResult>): ConditionResult {
  return { path, expected: ['x'], holds: false, found: false, actualType: 'absent', ...overrides };
}

const entraIssuer = () => config().issuers[0]!;

const DECISION_CASES: [string, DecisionHintContext][] = [
  ['issuer', decision({ reason: 'issuer_invalid', iss: 'https://other.example.org' })],
  ['token-expired', decision({ reason: 'token_expired', claims: { exp: NOW / 1000 - 60 } })],
  [
    'iat-window',
    decision({
      reason: 'token_lifetime_exceeded',
      detail: 'iat is older than 43200 s',
      claims: { iat: NOW / 1000 - 50_000 },
    }),
  ],
  [
    'exp-not-finite',
    decision({ reason: 'token_lifetime_exceeded', detail: 'exp is not a finite number up to 2^53 - 1' }),
  ],
  [
    'not-yet-valid',
    decision({
      reason: 'token_not_yet_valid',
      detail: 'nbf is in the future',
      claims: { nbf: NOW / 1000 + 600 },
    }),
  ],
  ['claim-missing', decision({ reason: 'claim_missing', detail: 'exp is absent' })],
  ['id-token', decision({ reason: 'token_type_invalid' })],
  ['tenant-absent', decision({ reason: 'tenant_not_allowed', issuer: entraIssuer(), claims: {} })],
  [
    'tenant-other',
    decision({ reason: 'tenant_not_allowed', issuer: entraIssuer(), claims: { tid: 'another' } }),
  ],
  ['aud-absent', decision({ reason: 'audience_invalid', issuer: entraIssuer(), claims: {} })],
  [
    'aud-guid-vs-uri',
    decision({ reason: 'audience_invalid', issuer: entraIssuer(), claims: { aud: API_APP_ID } }),
  ],
  [
    'aud-uri-vs-guid',
    decision({
      reason: 'audience_invalid',
      issuer: { ...entraIssuer(), audience: API_APP_ID },
      claims: { aud: 'api://ahi-dicomweb' },
    }),
  ],
  [
    'aud-other-resource',
    decision({
      reason: 'audience_invalid',
      issuer: entraIssuer(),
      claims: { aud: 'https://dicom.healthcareapis.azure.com' },
    }),
  ],
  [
    'client-absent',
    decision({ reason: 'client_not_allowed', issuer: { ...entraIssuer(), clientIds: ['a'] }, claims: {} }),
  ],
  [
    'client-ids-hold-object-id',
    decision({
      reason: 'client_not_allowed',
      issuer: { ...entraIssuer(), clientIds: [OBJECT_ID] },
      claims: entraAppPayload(),
    }),
  ],
  [
    'client-not-listed',
    decision({
      reason: 'client_not_allowed',
      issuer: { ...entraIssuer(), clientIds: ['a'] },
      claims: { azp: 'b' },
    }),
  ],
  ['alg-symmetric', decision({ reason: 'alg_not_allowed', header: { alg: 'HS256' } })],
  [
    'alg-not-listed',
    decision({ reason: 'alg_not_allowed', header: { alg: 'ES256' }, issuer: entraIssuer() }),
  ],
  [
    'typ',
    decision({
      reason: 'typ_invalid',
      header: { typ: 'JWT' },
      issuer: { ...entraIssuer(), tokenType: 'at+jwt' },
    }),
  ],
  ['kid-missing', decision({ reason: 'kid_missing' })],
  [
    'kid-unknown',
    decision({
      reason: 'kid_unknown',
      header: { kid: 'k9' },
      keys: { source: 'https://idp/keys', kids: ['k1'] },
    }),
  ],
  ['jwks-ambiguous', decision({ reason: 'jwks_ambiguous_key' })],
  ['idp-unavailable', decision({ reason: 'idp_unavailable', detail: 'jwks: request failed (ECONNREFUSED)' })],
  [
    'idp-tls',
    decision({
      reason: 'idp_unavailable',
      detail: 'discovery: TLS certificate not issued by a trusted CA (SELF_SIGNED_CERT_IN_CHAIN)',
      tls: { cause: 'unknown_ca', code: 'SELF_SIGNED_CERT_IN_CHAIN' },
    }),
  ],
  ['signature', decision({ reason: 'signature_invalid' })],
  ['malformed', decision({ reason: 'token_malformed' })],
  ['too-large', decision({ reason: 'token_too_large' })],
  [
    'header',
    decision({ reason: 'header_forbidden_param', detail: 'the header carries the forbidden parameter jku' }),
  ],
  ['claims-invalid', decision({ reason: 'claims_invalid', detail: 'exp is string, not a number' })],
  ['unknown-datastore', decision({ reason: 'unknown_datastore', datastoreId: '0'.repeat(32) })],
  ['unknown-operation', decision({ reason: 'unknown_operation', operation: 'DeleteDICOM' })],
  [
    'operation-not-covered',
    decision({
      reason: 'operation_not_permitted',
      operation: 'StoreDICOM',
      claimMatchedRules: [{ rule: 'readers', operations: ['read'] }],
    }),
  ],
  ['deadline', decision({ reason: 'deadline_exceeded' })],
];

const app = entraAppPayload();
const user = entraUserPayload();
const keycloak = keycloakPayload();

const CONDITION_CASES: [string, ConditionHintContext][] = [
  ['app-token-without-roles', { condition: condition('roles', {}), claims: app }],
  [
    'app-like-token-without-roles',
    { condition: condition('roles', {}), claims: { ...app, idtyp: undefined } },
  ],
  ['user-token-without-roles', { condition: condition('roles', {}), claims: user }],
  ['scp-on-app-token', { condition: condition('scp', {}), claims: app }],
  ['scope-not-scp', { condition: condition('scp', {}), claims: keycloak }],
  ['scp-not-scope', { condition: condition('scope', {}), claims: user }],
  [
    'entra-group-overage',
    {
      condition: condition('groups', {}),
      claims: { ...user, _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'x' } } },
    },
  ],
  [
    'oid-is-client-id',
    {
      condition: condition('oid', {
        expected: [APP_ID],
        found: true,
        actualType: 'string',
        actualSample: [OBJECT_ID],
      }),
      claims: app,
    },
  ],
  [
    'keycloak-realm-roles-missing',
    { condition: condition('realm_access.roles', { expected: ['user'] }), claims: { azp: 'curl' } },
  ],
  [
    'keycloak-realm-role-not-assigned',
    {
      condition: condition('realm_access.roles', {
        expected: ['user'],
        found: true,
        actualType: 'array',
        actualSample: ['offline_access'],
      }),
      claims: keycloak,
    },
  ],
  [
    'keycloak-client-roles',
    { condition: condition('resource_access.dicom-api.roles', {}), claims: keycloak },
  ],
  [
    'space-in-scope-value',
    {
      condition: condition('scope', {
        expected: ['dicom.read dicom.write'],
        found: true,
        actualType: 'string',
        actualSample: ['dicom.read'],
      }),
      claims: keycloak,
    },
  ],
  [
    'case-mismatch',
    {
      condition: condition('groups', {
        expected: ['Radiology'],
        found: true,
        actualType: 'array',
        actualSample: ['radiology'],
      }),
      claims: {},
    },
  ],
  [
    'type-mismatch',
    {
      condition: condition('level', {
        expected: [1],
        found: true,
        actualType: 'string',
        actualSample: ['1'],
      }),
      claims: {},
    },
  ],
  [
    'object-value',
    { condition: condition('realm', { found: true, actualType: 'object', actualSample: [] }), claims: {} },
  ],
  ['claim-absent', { condition: condition('groups', {}), claims: {} }],
  [
    'claim-other-value',
    { condition: condition('groups', { found: true, actualType: 'array', actualSample: ['b'] }), claims: {} },
  ],
];

describe('the decision hint table', () => {
  it('has a case for every entry', () => {
    expect(DECISION_CASES.map(([id]) => id).sort()).toEqual(DECISION_HINTS.map((hint) => hint.id).sort());
  });

  it.each(DECISION_CASES)('gives the %s hint for its situation', (id, context) => {
    const ids =
      id === 'issuer'
        ? decisionHints(context).map(() => 'issuer')
        : decisionHints(context).map((hint) => hint.id);
    expect(ids).toContain(id);
  });

  it('gives no claim-based hint before the signature verified', () => {
    const hints = decisionHints(decision({ reason: 'audience_invalid', issuer: entraIssuer() }));
    expect(hints).toEqual([]);
  });

  it('says how long ago the token expired', () => {
    const [hint] = decisionHints(
      decision({ reason: 'token_expired', claims: { exp: NOW / 1000 - 3 * 3600 - 720 } }),
    );
    expect(hint?.text).toMatch(/^the token expired 3 h 12 min ago/);
  });
});

describe('the condition hint table', () => {
  it('has a case for every entry', () => {
    expect(CONDITION_CASES.map(([id]) => id).sort()).toEqual(CONDITION_HINTS.map((hint) => hint.id).sort());
  });

  it.each(CONDITION_CASES)('gives the %s hint for its situation', (id, context) => {
    expect(conditionHints(context).map((hint) => hint.id)).toContain(id);
  });

  it('lets a specific hint silence the generic fallback', () => {
    const ids = conditionHints({ condition: condition('roles', {}), claims: app }).map((hint) => hint.id);
    expect(ids).toEqual(['app-token-without-roles']);
  });

  it('gives no hint for a condition that holds', () => {
    expect(
      conditionHints({ condition: condition('roles', { holds: true, found: true }), claims: app }),
    ).toEqual([]);
  });

  it('tells a user with an Entra group overage (hasgroups) to use app roles or group filtering, not Graph', () => {
    const ids = conditionHints({
      condition: condition('groups', { expected: ['b4c1a2d3-0000-4000-8000-000000000001'] }),
      claims: { ...user, hasgroups: true },
    });
    expect(ids.map((hint) => hint.id)).toEqual(['entra-group-overage']);
    expect(ids[0]?.text).toMatch(/does not call Microsoft Graph.*app roles.*group filtering/);
  });

  it('keeps the generic hint for a missing groups claim without an overage signal', () => {
    const ids = conditionHints({ condition: condition('groups', {}), claims: user }).map((hint) => hint.id);
    expect(ids).toEqual(['claim-absent']);
  });

  it('words the seed case as the issue asks', () => {
    const [hint] = conditionHints({
      condition: condition('roles', { expected: ['DICOM.Writer'] }),
      claims: app,
    });
    expect(hint?.text).toMatch(
      /^token has idtyp=app and no roles — app tokens carry application roles, assign one in the IdP/,
    );
  });
});

describe('issuerMismatchHints', () => {
  it.each([
    [ENTRA_V1, [ENTRA_V2], 'entra-v1-token-v2-config'],
    [ENTRA_V2, [ENTRA_V1], 'entra-v2-token-v1-config'],
    [`https://sts.windows.net/00000000-0000-0000-0000-000000000001/`, [ENTRA_V1], 'entra-other-tenant'],
    [ENTRA_V1, [`https://login.microsoftonline.com/${TENANT}/`], 'entra-authority-not-issuer'],
    ['https://idp.example.org/', ['https://idp.example.org'], 'issuer-trailing-slash'],
    ['https://IdP.example.org', ['https://idp.example.org'], 'issuer-letter-case'],
    ['https://kc.example.org/auth/realms/a', ['https://kc.example.org/realms/a'], 'keycloak-auth-path'],
    ['https://kc.example.org/realms/a', ['https://kc.example.org/realms/b'], 'keycloak-other-realm'],
    ['https://elsewhere.example.org', ['https://idp.example.org'], 'issuer-not-configured'],
  ])('compares %s with %s as %s', (seen, configured, id) => {
    expect(issuerMismatchHints(seen, configured, 'the token').map((hint) => hint.id)).toEqual([id]);
  });

  it('names both issuers and the fix in the v1/v2 hint', () => {
    const [hint] = issuerMismatchHints(ENTRA_V1, [ENTRA_V2], "the token's iss");
    expect(hint?.text).toContain(`https://sts.windows.net/${TENANT}/`);
    expect(hint?.text).toContain(ENTRA_V2);
    expect(hint?.text).toContain('requestedAccessTokenVersion');
  });
});
