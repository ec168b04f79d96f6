/**
 * The sandbox's IdP profiles (`sandbox --profile NAME`), one per guide in docs/idp: the guide's
 * authorizer configuration as printed (a test compares them), the IdP's token shapes
 * (idp-token-shapes.ts), and the guide's example requests with promised outcomes. The sandbox moves
 * the URLs to loopback (loopbackUrl below) and shows what the handler decided.
 */

import type { Reason } from '../../core/decision/reason-codes.ts';
import * as shape from './idp-token-shapes.ts';
import type { Claims, HeaderShape } from './idp-token-shapes.ts';

/** An authorizer configuration as a guide prints it (validated by the sandbox as any config). */
export interface ProfileConfig {
  issuers: ({ issuer: string; jwksUri?: string } & Record<string, unknown>)[];
  rules: Record<string, unknown>[];
  [key: string]: unknown;
}

export interface ProfileToken {
  /** The name in the mint URL (`POST <idp>/sandbox/tokens/<name>`) and in the banner. */
  name: string;
  /** What the token is, for the banner. */
  summary: string;
  /** JOSE header parameters besides alg and kid. */
  header(kid: string): HeaderShape;
  claims(nowMs: number): Claims;
}

/** The outcome a guide promises for a request. */
export interface PromisedOutcome {
  reason: Reason;
  /** The role HealthImaging assumes when allowed. */
  roleArn?: string;
}

export interface ProfileExample {
  /** What the request is, e.g. "the radiologist searches studies". */
  title: string;
  /** A ProfileToken name (a client id for the embedded provider). */
  token: string;
  method: 'GET' | 'POST';
  /** Below the datastore's DICOMweb base, e.g. `/studies`. */
  path: string;
  promise: PromisedOutcome;
}

export interface IdpProfile {
  name: string;
  /** One line for the banner and the docs. */
  title: string;
  /** The guide whose ```json block this profile runs (0-based index). */
  guide: { file: string; block: number };
  config: ProfileConfig;
  /** Where an issuer without a pinned jwksUri publishes its keys (its discovery document points there). */
  jwksUriFor(issuer: string): string;
  /** The kid of the sandbox's signing key in this profile's JWKS. */
  kid: string;
  /** Whether the JWKS entries carry `alg` (Entra's and AD FS's do not). */
  jwkAlg: boolean;
  /** Keycloak also publishes an RSA-OAEP encryption key, which the authorizer must skip. */
  encryptionKey: boolean;
  tokens: ProfileToken[];
  examples: ProfileExample[];
}

export const DEFAULT_PROFILE = 'default';

const RO = shape.READ_ONLY;
const RW = shape.READ_WRITE;

const allowed = (roleArn: string): PromisedOutcome => ({ reason: 'allowed', roleArn });
const denied = (reason: Reason): PromisedOutcome => ({ reason });

const read = (title: string, token: string, promise: PromisedOutcome): ProfileExample => ({
  title,
  token,
  method: 'GET',
  path: '/studies',
  promise,
});
const store = (title: string, token: string, promise: PromisedOutcome): ProfileExample => ({
  title,
  token,
  method: 'POST',
  path: '/studies',
  promise,
});

// --- Entra ID: docs/idp/entra-id.md, block 0 (v1 and v2 issuers of one tenant) ---------------------

const ENTRA_CONFIG: ProfileConfig = {
  issuers: [
    {
      issuer: shape.ENTRA_V1_ISSUER,
      jwksUri: shape.ENTRA_V1_JWKS,
      audience: [shape.ENTRA_API_URI, shape.ENTRA_API_APP_ID],
      tenantId: shape.ENTRA_TENANT,
    },
    {
      issuer: shape.ENTRA_V2_ISSUER,
      jwksUri: shape.ENTRA_V2_JWKS,
      audience: shape.ENTRA_API_APP_ID,
      tenantId: shape.ENTRA_TENANT,
    },
  ],
  rules: [
    {
      name: 'pacs-gateway',
      claims: { idtyp: 'app', oid: shape.ENTRA_CLIENT_OBJECT_ID, roles: 'DICOM.Writer' },
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
  ],
};

const entraProfile = (
  name: string,
  title: string,
  tokens: ProfileToken[],
  examples: ProfileExample[],
): IdpProfile => ({
  name,
  title,
  guide: { file: 'docs/idp/entra-id.md', block: 0 },
  config: ENTRA_CONFIG,
  jwksUriFor: () => shape.ENTRA_V2_JWKS,
  kid: 'JDNa_4i4r7FgigL3sHIlI3xV-IU',
  jwkAlg: false,
  encryptionKey: false,
  tokens,
  examples,
});

/** A maker of one IdP's tokens: every token it makes has this header. */
const tokensWithHeader =
  (header: ProfileToken['header']) =>
  (name: string, summary: string, claims: (nowMs: number) => Claims): ProfileToken => ({
    name,
    summary,
    header,
    claims,
  });

const entraV1Token = tokensWithHeader((kid) => shape.entraHeader(1, kid));
const entraV2Token = tokensWithHeader((kid) => shape.entraHeader(2, kid));

const readerService = {
  appid: shape.ENTRA_READER_APP_ID,
  oid: shape.ENTRA_READER_OBJECT_ID,
  sub: shape.ENTRA_READER_OBJECT_ID,
  roles: ['DICOM.Reader'],
};

/** The v1 and v2 user profiles promise the same outcomes for the same requests. */
const ENTRA_USER_EXAMPLES: ProfileExample[] = [
  store('the radiologist stores an instance', 'radiologist', allowed(RW)),
  read('the reader searches studies', 'reader', allowed(RO)),
  store('the reader stores an instance', 'reader', denied('operation_not_permitted')),
  read('a user of another tenant searches studies', 'other-tenant', denied('tenant_not_allowed')),
  read('the viewer sends its ID token instead', 'id-token', denied('token_type_invalid')),
];

/** The v1 and v2 app profiles promise the same outcomes for the same requests. */
const ENTRA_APP_EXAMPLES: ProfileExample[] = [
  store('the PACS gateway stores an instance', 'pacs-gateway', allowed(RW)),
  read('the reader service searches studies', 'reader-service', allowed(RO)),
  store('the reader service stores an instance', 'reader-service', denied('operation_not_permitted')),
  store('a service without a granted app role stores', 'unconsented', denied('no_role_mapping')),
];

const ENTRA_V1_USER = entraProfile(
  'entra-v1-user',
  'Microsoft Entra ID, v1 delegated (user) tokens: iss https://sts.windows.net/{tid}/, aud the Application ID URI, scp',
  [
    entraV1Token('radiologist', 'v1 user token, scp "Dicom.Read Dicom.ReadWrite", appid the viewer', (now) =>
      shape.entraV1User(now),
    ),
    entraV1Token('reader', 'v1 user token, scp "Dicom.Read"', (now) =>
      shape.entraV1User(now, { scp: 'Dicom.Read' }),
    ),
    entraV1Token('other-tenant', 'v1 user token of another tenant (tid)', (now) =>
      shape.entraV1User(now, { tid: shape.ENTRA_OTHER_TENANT }),
    ),
    entraV1Token('id-token', "the viewer's v1 ID token (nonce, c_hash, aud the viewer)", (now) =>
      shape.entraV1UserId(now),
    ),
  ],
  ENTRA_USER_EXAMPLES,
);

const ENTRA_V1_APP = entraProfile(
  'entra-v1-app',
  'Microsoft Entra ID, v1 app-only (client credentials) tokens: appid, idtyp "app", roles, no scp',
  [
    entraV1Token('pacs-gateway', 'v1 app token, app role DICOM.Writer granted (admin consent)', (now) =>
      shape.entraV1App(now, { roles: ['DICOM.Writer'] }),
    ),
    entraV1Token('reader-service', 'v1 app token of another service, app role DICOM.Reader', (now) =>
      shape.entraV1App(now, readerService),
    ),
    entraV1Token('unconsented', 'v1 app token before the app role is granted: no roles, no scp', (now) =>
      shape.entraV1App(now),
    ),
  ],
  ENTRA_APP_EXAMPLES,
);

const ENTRA_V2_USER = entraProfile(
  'entra-v2-user',
  'Microsoft Entra ID, v2 delegated (user) tokens: iss https://login.microsoftonline.com/{tid}/v2.0, aud the API client id, scp',
  [
    entraV2Token('radiologist', 'v2 user token, scp "Dicom.ReadWrite", azp the viewer', (now) =>
      shape.entraV2User(now, { scp: 'Dicom.ReadWrite' }),
    ),
    entraV2Token('reader', 'v2 user token, scp "Dicom.Read"', (now) => shape.entraV2User(now)),
    entraV2Token('other-tenant', 'v2 user token of another tenant (tid)', (now) =>
      shape.entraV2User(now, { tid: shape.ENTRA_OTHER_TENANT }),
    ),
    entraV2Token('id-token', "the viewer's v2 ID token (nonce, aud the viewer)", (now) =>
      shape.entraV2UserId(now),
    ),
  ],
  ENTRA_USER_EXAMPLES,
);

const ENTRA_V2_APP = entraProfile(
  'entra-v2-app',
  'Microsoft Entra ID, v2 app-only (client credentials) tokens: azp, idtyp "app", roles, no scp',
  [
    entraV2Token('pacs-gateway', 'v2 app token, app role DICOM.Writer', (now) => shape.entraV2App(now)),
    entraV2Token('reader-service', 'v2 app token of another service, app role DICOM.Reader', (now) => {
      const { appid, ...service } = readerService;
      return shape.entraV2App(now, { ...service, azp: appid });
    }),
    entraV2Token('unconsented', 'v2 app token before the app role is granted: no roles, no scp', (now) => {
      const { roles: _roles, ...withoutRoles } = shape.entraV2App(now);
      return withoutRoles;
    }),
  ],
  ENTRA_APP_EXAMPLES,
);

// --- Keycloak: docs/idp/keycloak.md, block 0 ---------------------------------------------------------

const keycloakToken = tokensWithHeader(() => shape.KEYCLOAK_HEADER);

const KEYCLOAK: IdpProfile = {
  name: 'keycloak',
  title:
    'Keycloak: realm roles in realm_access.roles, client roles in resource_access.<client>.roles, payload typ "Bearer"',
  guide: { file: 'docs/idp/keycloak.md', block: 0 },
  config: {
    issuers: [{ issuer: shape.KEYCLOAK_ISSUER, clientIds: ['curl', 'ohif-viewer'] }],
    rules: [
      {
        name: 'dcm4che-service',
        claims: { azp: 'curl', 'realm_access.roles': 'user' },
        roleArn: RW,
      },
      {
        name: 'viewer-writers',
        claims: { 'resource_access.dicom-api.roles': 'dicom-write' },
        roleArn: RW,
      },
      {
        name: 'viewer-readers',
        claims: { 'resource_access.dicom-api.roles': 'dicom-read' },
        operations: ['read'],
        roleArn: RO,
      },
    ],
  },
  jwksUriFor: (issuer) => `${issuer}/protocol/openid-connect/certs`,
  kid: 'EdNidhhDR32v_eRSJxGV6TmiT1O9Z7uml7r1exBvcY0',
  jwkAlg: true,
  encryptionKey: true,
  tokens: [
    keycloakToken('curl', 'service-account token of client curl: realm role "user", no aud', (now) =>
      shape.keycloakServiceAccount(now),
    ),
    keycloakToken(
      'viewer',
      'user token of client ohif-viewer: client role dicom-api/dicom-read, aud ["dicom-api", "account"]',
      (now) => shape.keycloakUser(now),
    ),
    keycloakToken('id-token', 'the viewer\'s ID token (payload typ "ID")', (now) =>
      shape.keycloakUserId(now),
    ),
  ],
  examples: [
    store('the dcm4che service account stores an instance', 'curl', allowed(RW)),
    read('the viewer user searches studies', 'viewer', allowed(RO)),
    store('the viewer user stores an instance', 'viewer', denied('operation_not_permitted')),
    read('the viewer sends its ID token instead', 'id-token', denied('token_type_invalid')),
  ],
};

// --- Okta: docs/idp/okta.md, block 0 (a custom authorization server) ------------------------------

const oktaToken = tokensWithHeader(() => shape.OKTA_HEADER);

const OKTA: IdpProfile = {
  name: 'okta',
  title: 'Okta custom authorization server: iss https://{org}.okta.com/oauth2/{id}, cid, scp as an array',
  guide: { file: 'docs/idp/okta.md', block: 0 },
  config: {
    issuers: [{ issuer: shape.OKTA_ISSUER, audience: shape.OKTA_AUDIENCE }],
    rules: [
      {
        name: 'pacs-gateway',
        claims: { cid: shape.OKTA_PACS_CLIENT, scp: 'dicom.write' },
        roleArn: RW,
      },
      {
        name: 'radiologists',
        claims: { groups: 'Radiologists', scp: 'dicom.read' },
        operations: ['read'],
        roleArn: RO,
      },
    ],
  },
  jwksUriFor: (issuer) => `${issuer}/v1/keys`,
  kid: 'XZ0LuAzO6k4Hh2J9fl5k8b5h3m2nLkP0qYRsB6cD7eE',
  jwkAlg: true,
  encryptionKey: false,
  tokens: [
    oktaToken(
      'viewer',
      'user token: cid the viewer, scp ["openid", "profile", "dicom.read"], groups',
      (now) => shape.oktaUser(now),
    ),
    oktaToken(
      'pacs-gateway',
      'client-credentials token: cid = sub, scp ["dicom.read", "dicom.write"]',
      (now) => shape.oktaService(now),
    ),
    oktaToken('id-token', "the viewer's ID token (jti ID.…, nonce, aud the client)", (now) =>
      shape.oktaUserId(now),
    ),
  ],
  examples: [
    read('the radiologist searches studies', 'viewer', allowed(RO)),
    store('the PACS gateway stores an instance', 'pacs-gateway', allowed(RW)),
    store('the radiologist stores an instance', 'viewer', denied('operation_not_permitted')),
    read('the viewer sends its ID token instead', 'id-token', denied('token_type_invalid')),
  ],
};

// --- Auth0: docs/idp/auth0.md, blocks 0 (Auth0 profile) and 1 (RFC 9068 profile) ----------------------

const auth0Token = tokensWithHeader(() => shape.AUTH0_HEADER);
const auth0Rfc9068Token = tokensWithHeader(() => shape.AUTH0_RFC9068_HEADER);

const AUTH0_JWKS = (issuer: string) => `${issuer}.well-known/jwks.json`;

const AUTH0: IdpProfile = {
  name: 'auth0',
  title:
    'Auth0, the default "Auth0" token profile: typ JWT, azp, permissions (RBAC), aud = the API identifier',
  guide: { file: 'docs/idp/auth0.md', block: 0 },
  config: {
    issuers: [{ issuer: shape.AUTH0_ISSUER, audience: shape.AUTH0_AUDIENCE }],
    rules: [
      { name: 'dicom-writers', claims: { permissions: 'write:dicom' }, roleArn: RW },
      {
        name: 'radiologists',
        claims: { [shape.AUTH0_ROLES_CLAIM]: 'radiologist' },
        operations: ['read'],
        roleArn: RO,
      },
    ],
  },
  jwksUriFor: AUTH0_JWKS,
  kid: 'qrmGrXjv0VxFsh4dXyKkg',
  jwkAlg: true,
  encryptionKey: false,
  tokens: [
    auth0Token(
      'radiologist',
      'user token: permissions ["read:dicom"], roles claim ["radiologist"], aud [API, /userinfo]',
      (now) => shape.auth0User(now),
    ),
    auth0Token(
      'pacs-gateway',
      'client-credentials token: gty, azp, permissions ["read:dicom", "write:dicom"]',
      (now) => shape.auth0Service(now),
    ),
    auth0Token('id-token', "the viewer's ID token (aud the client, nonce)", (now) => shape.auth0UserId(now)),
  ],
  examples: [
    read('the radiologist searches studies', 'radiologist', allowed(RO)),
    store('the PACS gateway stores an instance', 'pacs-gateway', allowed(RW)),
    store('the radiologist stores an instance', 'radiologist', denied('operation_not_permitted')),
    read('the viewer sends its ID token instead', 'id-token', denied('token_type_invalid')),
  ],
};

const AUTH0_RFC9068: IdpProfile = {
  name: 'auth0-rfc9068',
  title: 'Auth0, the "RFC 9068" token profile: typ at+jwt, client_id, jti',
  guide: { file: 'docs/idp/auth0.md', block: 1 },
  config: {
    issuers: [
      {
        issuer: shape.AUTH0_ISSUER,
        audience: shape.AUTH0_AUDIENCE,
        clientIds: [shape.AUTH0_PACS_CLIENT],
        tokenType: 'at+jwt',
      },
    ],
    rules: [{ name: 'pacs-gateway', claims: { permissions: 'write:dicom' }, roleArn: RW }],
  },
  jwksUriFor: AUTH0_JWKS,
  kid: 'qrmGrXjv0VxFsh4dXyKkg',
  jwkAlg: true,
  encryptionKey: false,
  tokens: [
    auth0Rfc9068Token(
      'pacs-gateway',
      'client-credentials token in the RFC 9068 profile: typ at+jwt, client_id, jti',
      (now) => shape.auth0Rfc9068Service(now),
    ),
    auth0Token(
      'auth0-profile',
      'the same service with the API left on the Auth0 profile: typ JWT, azp',
      (now) => shape.auth0Service(now),
    ),
  ],
  examples: [
    store('the PACS gateway stores an instance', 'pacs-gateway', allowed(RW)),
    store('a token of the other profile (typ JWT) stores', 'auth0-profile', denied('typ_invalid')),
  ],
};

// --- Amazon Cognito: docs/idp/cognito.md, block 0 ---------------------------------------------------

const cognitoToken = tokensWithHeader(() => shape.COGNITO_HEADER);

const COGNITO: IdpProfile = {
  name: 'cognito',
  title:
    'Amazon Cognito user pool: access tokens with client_id and no aud, token_use "access", cognito:groups',
  guide: { file: 'docs/idp/cognito.md', block: 0 },
  config: {
    issuers: [
      {
        issuer: shape.COGNITO_ISSUER,
        clientIds: [shape.COGNITO_VIEWER_CLIENT, shape.COGNITO_PACS_CLIENT],
      },
    ],
    rules: [
      {
        name: 'pacs-gateway',
        claims: { client_id: shape.COGNITO_PACS_CLIENT, scope: 'ahi/dicom.write' },
        roleArn: RW,
      },
      {
        name: 'radiologists',
        claims: { 'cognito:groups': 'radiologists' },
        operations: ['read'],
        roleArn: RO,
      },
    ],
  },
  jwksUriFor: (issuer) => `${issuer}/.well-known/jwks.json`,
  kid: 'abcdefghijklmnopqrsexample=',
  jwkAlg: true,
  encryptionKey: false,
  tokens: [
    cognitoToken(
      'radiologist',
      'user access token: cognito:groups ["radiologists"], client_id the viewer',
      (now) => shape.cognitoUserAccess(now),
    ),
    cognitoToken(
      'pacs-gateway',
      'client-credentials token: sub = client_id, scope "ahi/dicom.read ahi/dicom.write"',
      (now) => shape.cognitoServiceAccess(now),
    ),
    cognitoToken('id-token', 'the ID token of the same sign-in (token_use "id", aud the client)', (now) =>
      shape.cognitoUserId(now),
    ),
  ],
  examples: [
    read('the radiologist searches studies', 'radiologist', allowed(RO)),
    store('the PACS gateway stores an instance', 'pacs-gateway', allowed(RW)),
    store('the radiologist stores an instance', 'radiologist', denied('operation_not_permitted')),
    read('the viewer sends its ID token instead', 'id-token', denied('token_type_invalid')),
  ],
};

// --- AD FS: docs/idp/adfs.md, block 0 ------------------------------------------------------------------

const adfsToken = tokensWithHeader((kid) => shape.adfsHeader(kid));

const ADFS: IdpProfile = {
  name: 'adfs',
  title:
    'AD FS 2016+: iss the Federation Service identifier, aud the Web API identifier, appid, scp, ver "1.0"',
  guide: { file: 'docs/idp/adfs.md', block: 0 },
  config: {
    issuers: [
      {
        issuer: shape.ADFS_ISSUER,
        jwksUri: shape.ADFS_JWKS,
        audience: shape.ADFS_AUDIENCE,
        clientIds: [shape.ADFS_VIEWER_CLIENT, shape.ADFS_PACS_CLIENT],
      },
    ],
    rules: [
      {
        name: 'pacs-gateway',
        claims: { appid: shape.ADFS_PACS_CLIENT, scp: 'dicom.write' },
        roleArn: RW,
      },
      {
        name: 'radiologists',
        claims: { role: 'DICOM Readers', scp: 'dicom.read' },
        operations: ['read'],
        roleArn: RO,
      },
    ],
  },
  jwksUriFor: () => shape.ADFS_JWKS,
  kid: 'nP0kD3fLq8Vx2WmT7bYc5RgHs1A',
  jwkAlg: false,
  encryptionKey: false,
  tokens: [
    adfsToken(
      'radiologist',
      'viewer user token: apptype Public, scp "dicom.read openid", role "DICOM Readers"',
      (now) => shape.adfsUser(now),
    ),
    adfsToken(
      'pacs-gateway',
      'server application (client credentials): apptype Confidential, scp "dicom.write"',
      (now) => shape.adfsService(now),
    ),
    adfsToken(
      'changed-identifier',
      'the radiologist on a farm whose identifier was changed to https://…/adfs/services/trust',
      (now) => shape.adfsUser(now, { iss: shape.ADFS_CHANGED_ISSUER }),
    ),
    adfsToken('id-token', "the viewer's ID token (iss https://…/adfs, aud the client, nonce)", (now) =>
      shape.adfsUserId(now),
    ),
  ],
  examples: [
    read('the radiologist searches studies', 'radiologist', allowed(RO)),
    store('the PACS gateway stores an instance', 'pacs-gateway', allowed(RW)),
    store('the radiologist stores an instance', 'radiologist', denied('operation_not_permitted')),
    read('a token from a farm with another identifier', 'changed-identifier', denied('issuer_invalid')),
    read('the viewer sends its ID token instead', 'id-token', denied('issuer_invalid')),
  ],
};

export const IDP_PROFILES: readonly IdpProfile[] = [
  ENTRA_V1_USER,
  ENTRA_V1_APP,
  ENTRA_V2_USER,
  ENTRA_V2_APP,
  KEYCLOAK,
  OKTA,
  AUTH0,
  AUTH0_RFC9068,
  COGNITO,
  ADFS,
];

/** Every name `--profile` takes, the embedded provider's first. */
export const PROFILE_NAMES: readonly string[] = [
  DEFAULT_PROFILE,
  ...IDP_PROFILES.map((profile) => profile.name),
];

export function findProfile(name: string): IdpProfile | undefined {
  return IDP_PROFILES.find((profile) => profile.name === name);
}

/**
 * Points a public https URL at the sandbox's loopback server, keeping its host as the first path
 * segment so that every issuer of a profile gets its own path: `https://sts.windows.net/{tid}/` →
 * `http://127.0.0.1:PORT/sts.windows.net/{tid}/`. A URL that is not https is left as it is: it names
 * nothing the sandbox serves (an AD FS default identifier, for one), exactly as in production.
 */
export function loopbackUrl(url: string, origin: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.protocol !== 'https:') return url;
  return `${origin}/${parsed.host}${parsed.pathname}${parsed.search}`;
}

/** The profile's configuration with only its issuer and jwksUri values pointed at the loopback server. */
export function loopbackConfig(config: ProfileConfig, origin: string): ProfileConfig {
  return {
    ...config,
    issuers: config.issuers.map((issuer) => ({
      ...issuer,
      issuer: loopbackUrl(issuer.issuer, origin),
      ...(issuer.jwksUri === undefined ? {} : { jwksUri: loopbackUrl(issuer.jwksUri, origin) }),
    })),
  };
}
