/**
 * Each IdP's token shapes (test/support/fixtures/idp), signed at test time and verified by the built
 * bundle against a loopback JWKS shaped as that IdP publishes it, with Entra's specifics (v1 and v2
 * issuers, tenantId, app roles, group overage, the client-credentials 403). Access tokens are accepted;
 * ID tokens refused unless acceptIdTokens.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entraKey, keycloakKeys, plainKey, auth0Key } from '../support/fixtures/idp/keys.ts';
import * as idp from '../support/fixtures/idp/tokens.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { signToken, type TestKey } from '../support/keys.ts';
import { loadHandler, type LoadedHandler } from '../support/load-handler.ts';

const DS = idp.DATASTORE;
const RO = idp.READ_ONLY;
const RW = idp.READ_WRITE;

let server: IdpServer;
let entraV1: TestKey;
let entraV2: TestKey;
let keycloak: TestKey;
let okta: TestKey;
let auth0: TestKey;
let cognito: TestKey;

beforeAll(async () => {
  server = await startIdpServer();
  entraV1 = await entraKey();
  entraV2 = await entraKey({ v2Issuer: idp.ENTRA_V2_ISSUER });
  const kc = await keycloakKeys();
  keycloak = kc.signing;
  okta = await plainKey('RS256', 'XZ0LuAzO6k4Hh2J9fl5k8b5h3m2nLkP0qYRsB6cD7eE');
  auth0 = await auth0Key();
  cognito = await plainKey('RS256', 'abcdefghijklmnopqrsexample=');
  server.on('/entra/discovery/keys', { kind: 'json', body: { keys: [entraV1.jwk] } });
  server.on('/entra/discovery/v2.0/keys', { kind: 'json', body: { keys: [entraV2.jwk] } });
  server.on('/keycloak/certs', { kind: 'json', body: kc.jwks });
  server.on('/okta/v1/keys', { kind: 'json', body: { keys: [okta.jwk] } });
  server.on('/auth0/jwks.json', { kind: 'json', body: { keys: [auth0.jwk] } });
  server.on('/cognito/jwks.json', { kind: 'json', body: { keys: [cognito.jwk] } });
});

afterAll(async () => {
  await server?.close();
});

const entraIssuers = () => [
  {
    issuer: idp.ENTRA_V1_ISSUER,
    jwksUri: `${server.url}/entra/discovery/keys`,
    audience: idp.ENTRA_API_URI,
    tenantId: idp.ENTRA_TENANT,
  },
  {
    issuer: idp.ENTRA_V2_ISSUER,
    jwksUri: `${server.url}/entra/discovery/v2.0/keys`,
    audience: [idp.ENTRA_API_APP_ID, idp.ENTRA_API_URI],
    tenantId: idp.ENTRA_TENANT,
  },
];

/** Scope rules only: what a first configuration for users typically has. */
const SCOPE_ONLY_RULES = [{ name: 'radiologists', claims: { scp: 'Dicom.ReadWrite' }, roleArn: RW }];

/** The documented fix (docs/idp/entra-id.md): app tokens by app role, one pinned by oid. */
const ENTRA_RULES = [
  {
    name: 'pacs-gateway',
    claims: { idtyp: 'app', oid: idp.ENTRA_CLIENT_OBJECT_ID, roles: 'DICOM.Writer' },
    roleArn: RW,
  },
  {
    name: 'dicom-services',
    claims: { idtyp: 'app', roles: 'DICOM.Reader' },
    operations: ['read'],
    roleArn: RO,
  },
  { name: 'radiologists', claims: { scp: 'Dicom.ReadWrite' }, roleArn: RW },
  { name: 'readers', claims: { scp: 'Dicom.Read' }, operations: ['read'], roleArn: RO },
  {
    name: 'radiology-group',
    claims: { groups: 'b4c1a2d3-0000-4000-8000-000000000001' },
    operations: ['read'],
    roleArn: RO,
  },
];

async function handlerWith(config: unknown): Promise<LoadedHandler> {
  return loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config) });
}

async function decide(h: LoadedHandler, token: string, operation: string) {
  const answer = await h.invoke({ datastoreId: DS, operation, bearerToken: token });
  return { ...answer, reason: h.lastReason(), rule: h.decisions().at(-1)?.['rule'] };
}

const entraToken = (key: TestKey, claims: Record<string, unknown>) =>
  signToken(key, claims, { typ: 'JWT', x5t: key.kid });

describe('Entra ID tokens through the bundle, with both issuers of one tenant configured', () => {
  it('reproduces the client-credentials 403: an app-only token without roles under scope rules is no_role_mapping', async () => {
    const h = await handlerWith({ issuers: entraIssuers(), rules: SCOPE_ONLY_RULES });
    const appOnly = await entraToken(entraV1, idp.entraV1App(Date.now()));

    const result = await decide(h, appOnly, 'StoreDICOM');

    expect(result).toMatchObject({ isTokenValid: true, roleArn: '', reason: 'no_role_mapping' });
  });

  it('fixes that 403 with the documented app-role rule once the client is granted DICOM.Writer', async () => {
    const h = await handlerWith({ issuers: entraIssuers(), rules: ENTRA_RULES });
    const granted = await entraToken(entraV1, idp.entraV1App(Date.now(), { roles: ['DICOM.Writer'] }));

    const result = await decide(h, granted, 'StoreDICOM');

    expect(result).toMatchObject({
      isTokenValid: true,
      roleArn: RW,
      reason: 'allowed',
      rule: 'pacs-gateway',
    });
  });

  it('maps v1 and v2 tokens of the same tenant side by side, each against its own JWKS', async () => {
    const h = await handlerWith({ issuers: entraIssuers(), rules: ENTRA_RULES });
    const now = Date.now();

    const v1User = await decide(h, await entraToken(entraV1, idp.entraV1User(now)), 'StoreDICOM');
    const v2User = await decide(h, await entraToken(entraV2, idp.entraV2User(now)), 'SearchDICOMStudies');
    const v2App = await decide(h, await entraToken(entraV2, idp.entraV2App(now)), 'StoreDICOM');

    expect(v1User).toMatchObject({ roleArn: RW, rule: 'radiologists' });
    expect(v2User).toMatchObject({ roleArn: RO, rule: 'readers' });
    expect(v2App).toMatchObject({ roleArn: RW, rule: 'pacs-gateway' });
  });

  it('does not give the pinned role to another service principal with the same app role', async () => {
    const h = await handlerWith({ issuers: entraIssuers(), rules: ENTRA_RULES });
    const other = idp.entraV2App(Date.now(), {
      oid: '11111111-2222-4333-8444-555555555555',
      sub: '11111111-2222-4333-8444-555555555555',
    });

    const result = await decide(h, await entraToken(entraV2, other), 'StoreDICOM');

    expect(result).toMatchObject({ isTokenValid: true, roleArn: '', reason: 'no_role_mapping' });
  });

  it('refuses a v2 token signed with the v1 key set (each issuer uses only its own keys)', async () => {
    const h = await handlerWith({ issuers: entraIssuers(), rules: ENTRA_RULES });

    const result = await decide(
      h,
      await entraToken(entraV1, idp.entraV2User(Date.now())),
      'SearchDICOMStudies',
    );

    expect(result).toMatchObject({ isTokenValid: false, reason: 'kid_unknown' });
  });

  it.each([
    ['another tenant', { tid: idp.ENTRA_OTHER_TENANT }],
    ['no tid', { tid: undefined }],
  ])('denies a token from %s with tenant_not_allowed', async (_, change) => {
    const h = await handlerWith({ issuers: entraIssuers(), rules: ENTRA_RULES });

    const result = await decide(
      h,
      await entraToken(entraV2, idp.entraV2User(Date.now(), change)),
      'SearchDICOMStudies',
    );

    expect(result).toMatchObject({ isTokenValid: false, reason: 'tenant_not_allowed' });
  });

  it.each([
    ['_claim_names', idp.entraGroupOverage],
    ['hasgroups', idp.entraHasGroups],
  ])('denies a group-overage token (%s) with no_role_mapping, not by calling Graph', async (_, build) => {
    const h = await handlerWith({ issuers: entraIssuers(), rules: ENTRA_RULES.slice(4) });
    const inline = await entraToken(
      entraV2,
      idp.entraWithGroups(Date.now(), ['b4c1a2d3-0000-4000-8000-000000000001']),
    );

    const overage = await decide(h, await entraToken(entraV2, build(Date.now())), 'SearchDICOMStudies');
    const withGroups = await decide(h, inline, 'SearchDICOMStudies');

    expect(overage).toMatchObject({ isTokenValid: true, roleArn: '', reason: 'no_role_mapping' });
    expect(withGroups).toMatchObject({ roleArn: RO, rule: 'radiology-group' });
  });
});

describe('Keycloak tokens through the bundle, keys from a realm JWKS that also lists an encryption key', () => {
  const config = () => ({
    issuers: [
      {
        issuer: idp.KEYCLOAK_ISSUER,
        jwksUri: `${server.url}/keycloak/certs`,
        clientIds: ['curl', 'ohif-viewer'],
      },
    ],
    rules: [
      { name: 'dcm4che-service', claims: { azp: 'curl', 'realm_access.roles': 'user' }, roleArn: RW },
      {
        name: 'viewer-readers',
        claims: { 'resource_access.dicom-api.roles': 'dicom-read' },
        operations: ['read'],
        roleArn: RO,
      },
    ],
  });

  it('maps a service-account token without aud by realm_access.roles and a user token by resource_access', async () => {
    const h = await handlerWith(config());
    const now = Date.now();

    const service = await decide(
      h,
      await signToken(keycloak, idp.keycloakServiceAccount(now), { typ: 'JWT' }),
      'StoreDICOM',
    );
    const user = await decide(
      h,
      await signToken(keycloak, idp.keycloakUser(now), { typ: 'JWT' }),
      'GetDICOMInstance',
    );
    const userStore = await decide(
      h,
      await signToken(keycloak, idp.keycloakUser(now), { typ: 'JWT' }),
      'StoreDICOM',
    );

    expect(service).toMatchObject({ roleArn: RW, rule: 'dcm4che-service' });
    expect(user).toMatchObject({ roleArn: RO, rule: 'viewer-readers' });
    expect(userStore).toMatchObject({ isTokenValid: true, roleArn: '', reason: 'operation_not_permitted' });
  });

  it('denies the "account" audience with audience_invalid when an API audience is configured', async () => {
    const withAudience = config();
    const [issuer] = withAudience.issuers;
    const h = await handlerWith({ ...withAudience, issuers: [{ ...issuer, audience: 'dicom-api' }] });

    const result = await decide(
      h,
      await signToken(keycloak, idp.keycloakUser(Date.now(), { aud: 'account' }), { typ: 'JWT' }),
      'GetDICOMInstance',
    );

    expect(result).toMatchObject({ isTokenValid: false, reason: 'audience_invalid' });
  });

  it('denies a client that is not listed with client_not_allowed', async () => {
    const h = await handlerWith(config());
    const token = await signToken(
      keycloak,
      idp.keycloakServiceAccount(Date.now(), { azp: 'intruder', client_id: 'intruder' }),
      { typ: 'JWT' },
    );

    expect(await decide(h, token, 'GetDICOMInstance')).toMatchObject({ reason: 'client_not_allowed' });
  });
});

describe('Okta, Auth0 and Cognito tokens through the bundle', () => {
  it('maps Okta tokens by scp arrays and cid', async () => {
    const h = await handlerWith({
      issuers: [
        { issuer: idp.OKTA_ISSUER, jwksUri: `${server.url}/okta/v1/keys`, audience: idp.OKTA_AUDIENCE },
      ],
      rules: [
        { name: 'pacs-gateway', claims: { cid: idp.OKTA_PACS_CLIENT, scp: 'dicom.write' }, roleArn: RW },
        {
          name: 'radiologists',
          claims: { groups: 'Radiologists', scp: 'dicom.read' },
          operations: ['read'],
          roleArn: RO,
        },
      ],
    });
    const now = Date.now();

    expect(await decide(h, await signToken(okta, idp.oktaService(now)), 'StoreDICOM')).toMatchObject({
      roleArn: RW,
    });
    expect(await decide(h, await signToken(okta, idp.oktaUser(now)), 'SearchDICOMSeries')).toMatchObject({
      roleArn: RO,
    });
    expect(
      await decide(h, await signToken(okta, idp.oktaUser(now, { cid: idp.OKTA_PACS_CLIENT })), 'StoreDICOM'),
    ).toMatchObject({
      reason: 'operation_not_permitted',
    });
  });

  it('maps Auth0 tokens by permissions and a namespaced claim, and enforces the RFC 9068 profile by typ', async () => {
    const issuer = {
      issuer: idp.AUTH0_ISSUER,
      jwksUri: `${server.url}/auth0/jwks.json`,
      audience: idp.AUTH0_AUDIENCE,
    };
    const rules = [
      { name: 'dicom-writers', claims: { permissions: 'write:dicom' }, roleArn: RW },
      {
        name: 'radiologists',
        claims: { [idp.AUTH0_ROLES_CLAIM]: 'radiologist' },
        operations: ['read'],
        roleArn: RO,
      },
    ];
    const auth0Profile = await handlerWith({ issuers: [issuer], rules });
    const rfc9068 = await handlerWith({ issuers: [{ ...issuer, tokenType: 'at+jwt' }], rules });
    const now = Date.now();
    const user = await signToken(auth0, idp.auth0User(now), { typ: 'JWT' });
    const service = await signToken(auth0, idp.auth0Rfc9068Service(now), { typ: 'at+jwt' });

    expect(await decide(auth0Profile, user, 'GetDICOMInstanceFrames')).toMatchObject({
      roleArn: RO,
      rule: 'radiologists',
    });
    expect(await decide(rfc9068, service, 'StoreDICOM')).toMatchObject({
      roleArn: RW,
      rule: 'dicom-writers',
    });
    expect(await decide(rfc9068, user, 'GetDICOMInstanceFrames')).toMatchObject({
      isTokenValid: false,
      reason: 'typ_invalid',
    });
  });

  it('maps Cognito access tokens without aud by client_id and cognito:groups, and refuses the ID token', async () => {
    const h = await handlerWith({
      issuers: [
        {
          issuer: idp.COGNITO_ISSUER,
          jwksUri: `${server.url}/cognito/jwks.json`,
          clientIds: [idp.COGNITO_VIEWER_CLIENT, idp.COGNITO_PACS_CLIENT],
        },
      ],
      rules: [
        {
          name: 'pacs-gateway',
          claims: { client_id: idp.COGNITO_PACS_CLIENT, scope: 'ahi/dicom.write' },
          roleArn: RW,
        },
        {
          name: 'radiologists',
          claims: { 'cognito:groups': 'radiologists' },
          operations: ['read'],
          roleArn: RO,
        },
      ],
    });
    const now = Date.now();

    expect(
      await decide(h, await signToken(cognito, idp.cognitoServiceAccess(now)), 'StoreDICOM'),
    ).toMatchObject({ roleArn: RW });
    expect(
      await decide(h, await signToken(cognito, idp.cognitoUserAccess(now)), 'GetDICOMSeriesMetadata'),
    ).toMatchObject({
      roleArn: RO,
    });
    expect(
      await decide(h, await signToken(cognito, idp.cognitoUserId(now)), 'GetDICOMSeriesMetadata'),
    ).toMatchObject({
      isTokenValid: false,
      reason: 'token_type_invalid',
    });
  });
});

describe('ID tokens of each IdP through the bundle: refused as access tokens unless the issuer opts in', () => {
  interface Shape {
    name: string;
    key: () => TestKey;
    build: (nowMs: number) => Record<string, unknown>;
    /** The JOSE header the IdP sends (alg and kid are added when signing). */
    header: () => Record<string, unknown>;
    /** The issuer configuration, with its JWKS on the loopback server. */
    issuer: () => Record<string, unknown>;
  }

  const [entraV1Issuer, entraV2Issuer] = [() => entraIssuers()[0]!, () => entraIssuers()[1]!];
  const keycloakIssuer = () => ({
    issuer: idp.KEYCLOAK_ISSUER,
    jwksUri: `${server.url}/keycloak/certs`,
    clientIds: ['curl', 'ohif-viewer'],
  });
  const oktaIssuer = () => ({
    issuer: idp.OKTA_ISSUER,
    jwksUri: `${server.url}/okta/v1/keys`,
    audience: idp.OKTA_AUDIENCE,
  });
  const auth0Issuer = () => ({
    issuer: idp.AUTH0_ISSUER,
    jwksUri: `${server.url}/auth0/jwks.json`,
    audience: idp.AUTH0_AUDIENCE,
  });
  const cognitoIssuer = () => ({
    issuer: idp.COGNITO_ISSUER,
    jwksUri: `${server.url}/cognito/jwks.json`,
    clientIds: [idp.COGNITO_VIEWER_CLIENT, idp.COGNITO_PACS_CLIENT],
  });
  const jwt = () => ({ typ: 'JWT' });
  const noTyp = () => ({});
  const entraHeader = (key: () => TestKey) => () => ({ typ: 'JWT', x5t: key().kid });

  /** Every documented access token, each under the configuration its guide documents. */
  const ACCESS_TOKENS: Shape[] = [
    {
      name: 'Entra ID v1 user',
      key: () => entraV1,
      build: idp.entraV1User,
      header: entraHeader(() => entraV1),
      issuer: entraV1Issuer,
    },
    {
      name: 'Entra ID v1 app',
      key: () => entraV1,
      build: idp.entraV1App,
      header: entraHeader(() => entraV1),
      issuer: entraV1Issuer,
    },
    {
      name: 'Entra ID v2 user',
      key: () => entraV2,
      build: idp.entraV2User,
      header: entraHeader(() => entraV2),
      issuer: entraV2Issuer,
    },
    {
      name: 'Entra ID v2 app',
      key: () => entraV2,
      build: idp.entraV2App,
      header: entraHeader(() => entraV2),
      issuer: entraV2Issuer,
    },
    {
      name: 'Entra ID v2 group overage',
      key: () => entraV2,
      build: idp.entraGroupOverage,
      header: entraHeader(() => entraV2),
      issuer: entraV2Issuer,
    },
    {
      name: 'Entra ID v2 hasgroups',
      key: () => entraV2,
      build: idp.entraHasGroups,
      header: entraHeader(() => entraV2),
      issuer: entraV2Issuer,
    },
    {
      name: 'Keycloak service account',
      key: () => keycloak,
      build: idp.keycloakServiceAccount,
      header: jwt,
      issuer: keycloakIssuer,
    },
    {
      name: 'Keycloak user',
      key: () => keycloak,
      build: idp.keycloakUser,
      header: jwt,
      issuer: keycloakIssuer,
    },
    {
      name: 'Keycloak user with the nonce Keycloak copied in',
      key: () => keycloak,
      build: idp.keycloakUserWithNonce,
      header: jwt,
      issuer: keycloakIssuer,
    },
    { name: 'Okta user', key: () => okta, build: idp.oktaUser, header: noTyp, issuer: oktaIssuer },
    { name: 'Okta service', key: () => okta, build: idp.oktaService, header: noTyp, issuer: oktaIssuer },
    {
      name: 'Auth0 user (Auth0 profile)',
      key: () => auth0,
      build: idp.auth0User,
      header: jwt,
      issuer: auth0Issuer,
    },
    {
      name: 'Auth0 service (RFC 9068 profile)',
      key: () => auth0,
      build: idp.auth0Rfc9068Service,
      header: () => ({ typ: 'at+jwt' }),
      issuer: () => ({ ...auth0Issuer(), tokenType: 'at+jwt', clientIds: [idp.AUTH0_PACS_CLIENT] }),
    },
    {
      name: 'Cognito user',
      key: () => cognito,
      build: idp.cognitoUserAccess,
      header: noTyp,
      issuer: cognitoIssuer,
    },
    {
      name: 'Cognito service',
      key: () => cognito,
      build: idp.cognitoServiceAccess,
      header: noTyp,
      issuer: cognitoIssuer,
    },
  ];

  /**
   * Every documented ID token, under a configuration that also names its client (its aud or azp),
   * so that only the token type can refuse it. For Keycloak that is the documented configuration.
   */
  const ID_TOKENS: Shape[] = [
    {
      name: 'Entra ID v1 (hybrid sign-in)',
      key: () => entraV1,
      build: idp.entraV1UserId,
      header: entraHeader(() => entraV1),
      issuer: () => ({ ...entraV1Issuer(), audience: [idp.ENTRA_API_URI, idp.ENTRA_VIEWER_APP_ID] }),
    },
    {
      name: 'Entra ID v2',
      key: () => entraV2,
      build: idp.entraV2UserId,
      header: entraHeader(() => entraV2),
      issuer: () => ({ ...entraV2Issuer(), audience: [idp.ENTRA_API_APP_ID, idp.ENTRA_VIEWER_APP_ID] }),
    },
    { name: 'Keycloak', key: () => keycloak, build: idp.keycloakUserId, header: jwt, issuer: keycloakIssuer },
    {
      name: 'Keycloak token-exchange',
      key: () => keycloak,
      build: idp.keycloakExchangedId,
      header: jwt,
      issuer: keycloakIssuer,
    },
    {
      name: 'Okta',
      key: () => okta,
      build: idp.oktaUserId,
      header: noTyp,
      issuer: () => ({ ...oktaIssuer(), audience: [idp.OKTA_AUDIENCE, idp.OKTA_VIEWER_CLIENT] }),
    },
    {
      name: 'Auth0',
      key: () => auth0,
      build: idp.auth0UserId,
      header: jwt,
      issuer: () => ({ ...auth0Issuer(), audience: [idp.AUTH0_AUDIENCE, idp.AUTH0_VIEWER_CLIENT] }),
    },
    {
      name: 'Cognito',
      key: () => cognito,
      build: idp.cognitoUserId,
      header: noTyp,
      issuer: () => ({ ...cognitoIssuer(), clientIds: undefined, audience: idp.COGNITO_VIEWER_CLIENT }),
    },
  ];

  /** One issuer and one rule that any token of it matches, so the decision is about the token alone. */
  async function handlerFor(issuer: Record<string, unknown>): Promise<LoadedHandler> {
    return handlerWith({
      issuers: [JSON.parse(JSON.stringify(issuer)) as Record<string, unknown>],
      rules: [
        { name: 'any-token', claims: { iss: issuer['issuer'] as string }, operations: ['read'], roleArn: RO },
      ],
    });
  }

  async function tokenOf(shape: Shape): Promise<string> {
    return signToken(shape.key(), shape.build(Date.now()), shape.header());
  }

  it.each(ACCESS_TOKENS)(
    'accepts the documented $name access token (no ID-token marker refuses it)',
    async (shape) => {
      // Arrange
      const h = await handlerFor(shape.issuer());

      // Act
      const result = await decide(h, await tokenOf(shape), 'GetDICOMInstance');

      // Assert
      expect(result).toMatchObject({ isTokenValid: true, roleArn: RO, reason: 'allowed' });
    },
  );

  it.each(ID_TOKENS)(
    'denies the documented $name ID token with token_type_invalid, though its client is configured',
    async (shape) => {
      // Arrange
      const h = await handlerFor(shape.issuer());

      // Act
      const result = await decide(h, await tokenOf(shape), 'GetDICOMInstance');

      // Assert
      expect(result).toMatchObject({ isTokenValid: false, roleArn: '', reason: 'token_type_invalid' });
    },
  );

  it.each(ID_TOKENS)(
    'accepts the documented $name ID token once its issuer sets acceptIdTokens',
    async (shape) => {
      // Arrange
      const h = await handlerFor({ ...shape.issuer(), acceptIdTokens: true });

      // Act
      const result = await decide(h, await tokenOf(shape), 'GetDICOMInstance');

      // Assert
      expect(result).toMatchObject({ isTokenValid: true, roleArn: RO, reason: 'allowed' });
    },
  );
});
