/**
 * Access-token and ID-token shapes of each identity provider, from its public documentation:
 * payload builders plus each IdP's JOSE header, with made-up ids. The sandbox profiles
 * (idp-profiles.ts) mint them, the tests sign them (test/support/fixtures/idp/tokens.ts), and the
 * docs/idp guides `explain` them. ID tokens must be refused as access tokens.
 */

export type Claims = Record<string, unknown>;
/** The JOSE header parameters an IdP adds besides `alg` and `kid` (which belong to the signing key). */
export type HeaderShape = Record<string, string>;

export const DATASTORE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
/** The roles the stack creates (docs/deployment.md); every guide maps to these. */
export const READ_ONLY = 'arn:aws:iam::111122223333:role/healthimaging/HealthImagingAuthorizer-AhiReadOnly';
export const READ_WRITE = 'arn:aws:iam::111122223333:role/healthimaging/HealthImagingAuthorizer-AhiReadWrite';

/** Epoch seconds `offsetSeconds` from `nowMs`. */
export const epoch = (nowMs: number, offsetSeconds = 0): number => Math.floor(nowMs / 1000) + offsetSeconds;

/** Every builder takes the instant the token is used at (`nowMs`) and puts iat shortly before it. */
const times = (nowMs: number, lifetime = 3600) => ({
  iat: epoch(nowMs, -600),
  nbf: epoch(nowMs, -600),
  exp: epoch(nowMs, lifetime - 600),
});

// --- Entra ID -----------------------------------------------------------------------------------
// Source: Microsoft identity platform, "Access token claims reference"
// https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference
// (header typ always "JWT", x5t only on v1 tokens; v1 iss https://sts.windows.net/{tid}/ with
// appid/appidacr/unique_name/upn; v2 iss https://login.microsoftonline.com/{tid}/v2.0 with
// azp/azpacr/preferred_username; aud: v2 always the API's client id, v1 the client id or the
// resource URI the client asked for; scp only in user tokens, roles for app permissions; groups
// overage: _claim_names/_claim_sources over 200 groups, hasgroups only in implicit-flow tokens).
// idtyp is the optional claim that is only in app-only tokens, with the value "app":
// https://learn.microsoft.com/en-us/entra/identity-platform/optional-claims-reference
// App-only tokens: https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow

export const ENTRA_TENANT = '1fa9468c-81e2-46be-8fb6-57d421e024ba';
export const ENTRA_OTHER_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const ENTRA_V1_ISSUER = `https://sts.windows.net/${ENTRA_TENANT}/`;
export const ENTRA_V2_ISSUER = `https://login.microsoftonline.com/${ENTRA_TENANT}/v2.0`;
export const ENTRA_V1_JWKS = `https://login.microsoftonline.com/${ENTRA_TENANT}/discovery/keys`;
export const ENTRA_V2_JWKS = `https://login.microsoftonline.com/${ENTRA_TENANT}/discovery/v2.0/keys`;
/** The API's Application ID URI (v1 tokens carry it as aud when the client asks for it). */
export const ENTRA_API_URI = 'api://ahi-dicomweb';
/** The API's Application (client) ID (v2 tokens always carry it as aud). */
export const ENTRA_API_APP_ID = 'c0ffee00-1234-4abc-9def-0123456789ab';
/** The PACS service's Application (client) ID. */
export const ENTRA_CLIENT_APP_ID = '55fe42ed-27e9-45ea-9c98-3401075e54cf';
/** The PACS service principal's Object ID. */
export const ENTRA_CLIENT_OBJECT_ID = '39e2584e-962e-4f91-b6e1-538c04960f50';
/** A second service (a reader) and its service principal. */
export const ENTRA_READER_APP_ID = '6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e';
export const ENTRA_READER_OBJECT_ID = 'a0b1c2d3-e4f5-4a6b-8c7d-8e9f0a1b2c3d';
/** The viewer (OHIF) app registration users sign in with. */
export const ENTRA_VIEWER_APP_ID = '3c2d1e0f-aaaa-4bbb-8ccc-0123456789de';
/** The group a group rule names (its Object ID). */
export const ENTRA_RADIOLOGY_GROUP = 'b4c1a2d3-0000-4000-8000-000000000001';
const ENTRA_USER_OID = '8076b46f-ffeb-4e37-9626-03421edc12bf';

/** Entra's JOSE header: typ JWT; v1 tokens also carry x5t, equal to kid. */
export const entraHeader = (version: 1 | 2, kid: string): HeaderShape =>
  version === 1 ? { typ: 'JWT', x5t: kid } : { typ: 'JWT' };

/** v1 delegated (user) token: scp, appid, upn. */
export function entraV1User(nowMs: number, extra: Claims = {}): Claims {
  return {
    aud: ENTRA_API_URI,
    iss: ENTRA_V1_ISSUER,
    ...times(nowMs),
    acr: '1',
    aio: 'AVQAq/8TAAAA',
    amr: ['pwd', 'mfa'],
    appid: ENTRA_VIEWER_APP_ID,
    appidacr: '0',
    family_name: 'Radiologist',
    given_name: 'Rita',
    ipaddr: '203.0.113.7',
    name: 'Rita Radiologist',
    oid: ENTRA_USER_OID,
    rh: '0.AV8AjEapH-KBvkaPtlfUIeAkur8.',
    scp: 'Dicom.Read Dicom.ReadWrite',
    sub: 'wjns8P2Zm5wNRcsQzQkXKflFtIVpIzQcv_yyoaDNcaY',
    tid: ENTRA_TENANT,
    unique_name: 'rita@example.org',
    upn: 'rita@example.org',
    uti: 'fo9VR_HHOkOVT84srAsgAA',
    ver: '1.0',
    ...extra,
  };
}

/** v2 delegated (user) token: aud is the API's Application ID, azp the viewer. */
export function entraV2User(nowMs: number, extra: Claims = {}): Claims {
  return {
    aud: ENTRA_API_APP_ID,
    iss: ENTRA_V2_ISSUER,
    ...times(nowMs),
    aio: 'AVQAq/8TAAAA',
    azp: ENTRA_VIEWER_APP_ID,
    azpacr: '0',
    name: 'Rita Radiologist',
    oid: ENTRA_USER_OID,
    preferred_username: 'rita@example.org',
    rh: '0.AV8AjEapH-KBvkaPtlfUIeAkur8.',
    scp: 'Dicom.Read',
    sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    tid: ENTRA_TENANT,
    uti: 'fo9VR_HHOkOVT84srAsgAA',
    ver: '2.0',
    ...extra,
  };
}

/** v1 app-only (client credentials) token: appid, idtyp app, oid = sub, no scp (and no roles until granted). */
export function entraV1App(nowMs: number, extra: Claims = {}): Claims {
  return {
    aud: ENTRA_API_URI,
    iss: ENTRA_V1_ISSUER,
    ...times(nowMs),
    aio: 'k2RgYGCaERT/xezErfbw8Cd/vXVPAQA=',
    appid: ENTRA_CLIENT_APP_ID,
    appidacr: '2',
    idp: ENTRA_V1_ISSUER,
    idtyp: 'app',
    oid: ENTRA_CLIENT_OBJECT_ID,
    rh: '1.AV8AjEapH-KBvkaPtlfUIeAkur8.',
    sub: ENTRA_CLIENT_OBJECT_ID,
    tid: ENTRA_TENANT,
    uti: 'fo9VR_HHOkOVT84srAsgAA',
    ver: '1.0',
    xms_idrel: '22 7',
    ...extra,
  };
}

/** v2 app-only (client credentials) token: azp, azpacr, roles. */
export function entraV2App(nowMs: number, extra: Claims = {}): Claims {
  return {
    aud: ENTRA_API_APP_ID,
    iss: ENTRA_V2_ISSUER,
    ...times(nowMs),
    azp: ENTRA_CLIENT_APP_ID,
    azpacr: '1',
    idtyp: 'app',
    oid: ENTRA_CLIENT_OBJECT_ID,
    rh: '1.AV8AjEapH-KBvkaPtlfUIeAkur8.',
    roles: ['DICOM.Writer'],
    sub: ENTRA_CLIENT_OBJECT_ID,
    tid: ENTRA_TENANT,
    uti: 'fo9VR_HHOkOVT84srAsgAA',
    ver: '2.0',
    ...extra,
  };
}

/**
 * ID tokens of the viewer's sign-in. Source: Microsoft identity platform, "ID token claims
 * reference", https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference
 * (aud = the client's Application ID; `nonce` echoes the sign-in request, which MSAL always sends;
 * `c_hash` and `at_hash` only on ID tokens from the /authorize endpoint; no scp, roles for the API,
 * appid or azp). Entra access tokens carry none of nonce, c_hash, at_hash in the payload (the
 * access-token claims reference above; Graph tokens carry a `nonce` in the JOSE header only).
 */
const ENTRA_ID_TOKEN_SUB = 'Qm9iIHRoZSBJRCB0b2tlbiBzdWJqZWN0IGZvciB0aGUgdmk';

/** v1 ID token from a hybrid sign-in (response_type "code id_token" at /authorize): nonce and c_hash. */
export function entraV1UserId(nowMs: number, extra: Claims = {}): Claims {
  return {
    aud: ENTRA_VIEWER_APP_ID,
    iss: ENTRA_V1_ISSUER,
    ...times(nowMs),
    aio: 'AVQAq/8TAAAA',
    amr: ['pwd', 'mfa'],
    c_hash: 'LDktKdoQak3Pk0cnXxCltA',
    family_name: 'Radiologist',
    given_name: 'Rita',
    ipaddr: '203.0.113.7',
    name: 'Rita Radiologist',
    nonce: '8c3e6f0a-2d1b-4c5e-9f7a-1b2c3d4e5f60',
    oid: ENTRA_USER_OID,
    rh: '0.AV8AjEapH-KBvkaPtlfUIeAkur8.',
    sub: ENTRA_ID_TOKEN_SUB,
    tid: ENTRA_TENANT,
    unique_name: 'rita@example.org',
    upn: 'rita@example.org',
    uti: 'fo9VR_HHOkOVT84srAsgAA',
    ver: '1.0',
    ...extra,
  };
}

/** v2 ID token from the token endpoint (MSAL, authorization code with PKCE): nonce, no hashes. */
export function entraV2UserId(nowMs: number, extra: Claims = {}): Claims {
  return {
    aud: ENTRA_VIEWER_APP_ID,
    iss: ENTRA_V2_ISSUER,
    ...times(nowMs),
    aio: 'AVQAq/8TAAAA',
    name: 'Rita Radiologist',
    nonce: '01961f4c-6a3b-7c2d-8e9f-0a1b2c3d4e5f',
    oid: ENTRA_USER_OID,
    preferred_username: 'rita@example.org',
    rh: '0.AV8AjEapH-KBvkaPtlfUIeAkur8.',
    sid: '004d8a1c-7b6e-4f3a-9c2d-1e0f9a8b7c6d',
    sub: ENTRA_ID_TOKEN_SUB,
    tid: ENTRA_TENANT,
    uti: 'fo9VR_HHOkOVT84srAsgAA',
    ver: '2.0',
    ...extra,
  };
}

/**
 * Group overage (more than 200 groups in a JWT): no `groups`, instead `_claim_names` pointing at
 * `_claim_sources` (a Graph endpoint). Source: the claims reference, "Groups overage claim".
 */
export function entraGroupOverage(nowMs: number): Claims {
  const user = entraV2User(nowMs, { scp: 'Dicom.Read' });
  return {
    ...user,
    _claim_names: { groups: 'src1' },
    _claim_sources: {
      src1: {
        endpoint: `https://graph.windows.net/${ENTRA_TENANT}/users/${ENTRA_USER_OID}/getMemberObjects`,
      },
    },
  };
}

/** Implicit-flow variant of the overage (six or more groups): `hasgroups: true` instead of `groups`. */
export function entraHasGroups(nowMs: number): Claims {
  return { ...entraV2User(nowMs), hasgroups: true };
}

/** A token with the groups inline (below the overage limit), for the group rule. */
export function entraWithGroups(nowMs: number, groups: string[]): Claims {
  return { ...entraV2User(nowMs), groups };
}

// --- Keycloak -----------------------------------------------------------------------------------
// Source: Keycloak Server Administration Guide, "Role scope mappings" / "Client scopes" (the
// `roles` client scope maps realm roles to realm_access.roles and client roles to
// resource_access.<client>.roles, and its Audience Resolve mapper adds to `aud` every client whose
// client roles the token carries), https://www.keycloak.org/docs/latest/server_admin/#_role_scope_mappings
// and https://www.keycloak.org/docs/latest/server_admin/#audience-support ; payload typ "Bearer"
// for access tokens, header typ "JWT"; service-account tokens (the dcm4che `curl` client): azp,
// client_id, clientHost, no aud.

export const KEYCLOAK_ISSUER = 'https://keycloak.example.org/realms/dcm4che';
export const KEYCLOAK_HEADER: HeaderShape = { typ: 'JWT' };

/** Service-account (client credentials) token of client `curl`, with no aud. */
export function keycloakServiceAccount(nowMs: number, extra: Claims = {}): Claims {
  return {
    exp: epoch(nowMs, 240),
    iat: epoch(nowMs, -60),
    jti: '0cfdd0b5-88f8-4188-b763-b625abe0c6b8',
    iss: KEYCLOAK_ISSUER,
    sub: '24c78e9d-36c3-49a1-bf5d-180e7fe37f32',
    typ: 'Bearer',
    azp: 'curl',
    acr: '1',
    realm_access: { roles: ['offline_access', 'default-roles-dcm4che', 'uma_authorization', 'user'] },
    scope: 'profile email',
    clientHost: '192.168.2.223',
    email_verified: false,
    client_id: 'curl',
    preferred_username: 'service-account-curl',
    clientAddress: '192.168.2.223',
    ...extra,
  };
}

/**
 * User token of the viewer client: client roles of `dicom-api`, so the Audience Resolve mapper of
 * the default `roles` scope lists `dicom-api` in aud, next to `account` (the account console's
 * client, from the default roles).
 */
export function keycloakUser(nowMs: number, extra: Claims = {}): Claims {
  return {
    exp: epoch(nowMs, 240),
    iat: epoch(nowMs, -60),
    auth_time: epoch(nowMs, -90),
    jti: 'onrtac:8d1c0f2e-5b7a-4c2b-9d7e-0a1b2c3d4e5f',
    iss: KEYCLOAK_ISSUER,
    aud: ['dicom-api', 'account'],
    sub: 'f3b4c5d6-7e8f-4a0b-9c1d-2e3f4a5b6c7d',
    typ: 'Bearer',
    azp: 'ohif-viewer',
    sid: '6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d',
    acr: '1',
    'allowed-origins': ['https://viewer.example.org'],
    realm_access: { roles: ['offline_access', 'default-roles-dcm4che', 'uma_authorization'] },
    resource_access: {
      'dicom-api': { roles: ['dicom-read'] },
      account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] },
    },
    scope: 'openid profile email',
    email_verified: true,
    name: 'Rita Radiologist',
    preferred_username: 'rita',
    ...extra,
  };
}

/**
 * The same user token as issued before Keycloak 25 (or since then with the "Nonce backwards
 * compatible" mapper on a client scope): the nonce of the authorization request is copied into the
 * access token. It is an access token (typ Bearer) and must be accepted. Sources: the Keycloak
 * 25.0.0 upgrading notes ("the nonce claim is now only added to the ID token … Previously, the
 * claim was set to all the tokens"),
 * https://github.com/keycloak/keycloak/blob/main/docs/documentation/upgrading/topics/changes/changes-25_0_0.adoc ,
 * and https://www.keycloak.org/docs-api/latest/javadocs/org/keycloak/protocol/oidc/mappers/NonceBackwardsCompatibleMapper.html
 */
export function keycloakUserWithNonce(nowMs: number, extra: Claims = {}): Claims {
  return keycloakUser(nowMs, { nonce: 'b1f0c6a2-5d4e-4f3a-8b7c-9d0e1f2a3b4c', ...extra });
}

/**
 * The ID token of the viewer's sign-in (authorization code flow): typ "ID", aud and azp = the
 * client, the request's nonce, at_hash of the access token issued with it. Source: Keycloak's
 * TokenManager (generateIDToken, build),
 * https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/protocol/oidc/TokenManager.java
 */
export function keycloakUserId(nowMs: number, extra: Claims = {}): Claims {
  return {
    exp: epoch(nowMs, 240),
    iat: epoch(nowMs, -60),
    auth_time: epoch(nowMs, -90),
    jti: '2f6e0c1d-4b3a-4e5f-8a7b-6c5d4e3f2a1b',
    iss: KEYCLOAK_ISSUER,
    aud: 'ohif-viewer',
    sub: 'f3b4c5d6-7e8f-4a0b-9c1d-2e3f4a5b6c7d',
    typ: 'ID',
    azp: 'ohif-viewer',
    nonce: 'b1f0c6a2-5d4e-4f3a-8b7c-9d0e1f2a3b4c',
    sid: '6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d',
    at_hash: 'xB3S0hXq1vY2p8gS5nW7tA',
    acr: '1',
    email_verified: true,
    name: 'Rita Radiologist',
    preferred_username: 'rita',
    ...extra,
  };
}

/**
 * An ID token from Keycloak's standard token exchange with requested_token_type
 * urn:ietf:params:oauth:token-type:id_token: Keycloak returns it in the response's `access_token`
 * field, with no nonce and no at_hash, so `typ: "ID"` is its only marker. Sources:
 * https://www.keycloak.org/securing-apps/token-exchange and StandardTokenExchangeProvider,
 * https://github.com/keycloak/keycloak/blob/main/services/src/main/java/org/keycloak/protocol/oidc/tokenexchange/StandardTokenExchangeProvider.java
 */
export function keycloakExchangedId(nowMs: number, extra: Claims = {}): Claims {
  const { nonce: _nonce, at_hash: _atHash, auth_time: _authTime, ...rest } = keycloakUserId(nowMs);
  return { ...rest, jti: '7d8e9f0a-1b2c-4d3e-9f4a-5b6c7d8e9f0a', ...extra };
}

// --- Okta -----------------------------------------------------------------------------------------
// Source: Okta "OpenID Connect & OAuth 2.0 API", access token claims (ver, jti "AT.…", iss
// https://{domain}/oauth2/{authServerId}, aud "api://default", cid, uid, scp as an array, sub),
// https://developer.okta.com/docs/reference/api/oidc/#access-token ; client-credentials tokens have
// sub = cid and no uid (https://developer.okta.com/docs/guides/implement-grant-type/clientcreds/main/).
// Only a custom authorization server issues access tokens for your own API
// (https://developer.okta.com/docs/concepts/auth-servers/). The header has kid and alg, no typ.

export const OKTA_ISSUER = 'https://dicom-example.okta.com/oauth2/aus1a2b3c4d5e6f7g8h9';
export const OKTA_AUDIENCE = 'api://ahi-dicomweb';
export const OKTA_VIEWER_CLIENT = '0oa1viewerabcdefgh5d7';
export const OKTA_PACS_CLIENT = '0oa1pacsgatewayxyz5d7';
export const OKTA_HEADER: HeaderShape = {};

export function oktaUser(nowMs: number, extra: Claims = {}): Claims {
  return {
    ver: 1,
    jti: 'AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE',
    iss: OKTA_ISSUER,
    aud: OKTA_AUDIENCE,
    ...times(nowMs),
    cid: OKTA_VIEWER_CLIENT,
    uid: '00uid4BxXw6I6TV4m0g3',
    scp: ['openid', 'profile', 'dicom.read'],
    auth_time: epoch(nowMs, -700),
    sub: 'rita@example.org',
    groups: ['Radiologists'],
    ...extra,
  };
}

export function oktaService(nowMs: number, extra: Claims = {}): Claims {
  return {
    ver: 1,
    jti: 'AT.Qw3GnqjvQ2Zz1iACIT4vbEDF7LpvDVjxypPMf0D7uX3',
    iss: OKTA_ISSUER,
    aud: OKTA_AUDIENCE,
    ...times(nowMs),
    cid: OKTA_PACS_CLIENT,
    scp: ['dicom.read', 'dicom.write'],
    sub: OKTA_PACS_CLIENT,
    ...extra,
  };
}

/**
 * The ID token of the viewer's sign-in: aud = the client id, jti "ID.…", amr, idp, nonce (Okta's
 * SDKs send one), at_hash when an access token is issued with it. Okta access tokens carry
 * none of nonce, at_hash, c_hash (their reserved claims are ver, jti, iss, aud, iat, exp, cid, uid,
 * scp, sub). Source: https://developer.okta.com/docs/reference/api/oidc/#id-token
 */
export function oktaUserId(nowMs: number, extra: Claims = {}): Claims {
  return {
    ver: 1,
    sub: '00uid4BxXw6I6TV4m0g3',
    iss: OKTA_ISSUER,
    aud: OKTA_VIEWER_CLIENT,
    ...times(nowMs),
    jti: 'ID.4eAWJOCMB3SX8XewDfVR',
    amr: ['pwd'],
    idp: '00ok1u7AsAkrwdZL3z0g3',
    nonce: 'ZXhhbXBsZS1ub25jZS1mcm9tLW9rdGEtYXV0aC1qcw',
    auth_time: epoch(nowMs, -700),
    at_hash: 'cpqKfdQA5eH891Ff5oJr_Q',
    name: 'Rita Radiologist',
    preferred_username: 'rita@example.org',
    ...extra,
  };
}

// --- Auth0 ----------------------------------------------------------------------------------------
// Source: Auth0 "Access Token Profiles" (the default "Auth0" profile: header typ JWT, azp, scope,
// gty, aud array with /userinfo for user logins; the "RFC 9068" profile: header typ at+jwt,
// client_id instead of azp, jti), https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles ;
// `permissions` from RBAC "Add Permissions in the Access Token",
// https://auth0.com/docs/get-started/apis/enable-role-based-access-control-for-apis ; custom claims
// (namespaced recommended, plain names allowed since 28 July 2022 unless restricted),
// https://auth0.com/docs/secure/tokens/json-web-tokens/create-custom-claims .

export const AUTH0_ISSUER = 'https://dicom-example.eu.auth0.com/';
export const AUTH0_AUDIENCE = 'https://dicomweb.example.org';
export const AUTH0_ROLES_CLAIM = 'https://dicomweb.example.org/roles';
export const AUTH0_VIEWER_CLIENT = 'tDnkLm9wXq2VbN4c8RfGh7JsK1pYeA3u';
export const AUTH0_PACS_CLIENT = 'Zx8cVb6nMq1wEr5tYu3iOp9aSd7fGh2j';
export const AUTH0_HEADER: HeaderShape = { typ: 'JWT' };
export const AUTH0_RFC9068_HEADER: HeaderShape = { typ: 'at+jwt' };

/** The Auth0 profile, user login: aud array, azp, scope, permissions, a namespaced roles claim. */
export function auth0User(nowMs: number, extra: Claims = {}): Claims {
  return {
    [AUTH0_ROLES_CLAIM]: ['radiologist'],
    iss: AUTH0_ISSUER,
    sub: 'auth0|64f1c2d3e4f5a6b7c8d9e0f1',
    aud: [AUTH0_AUDIENCE, 'https://dicom-example.eu.auth0.com/userinfo'],
    ...times(nowMs),
    azp: AUTH0_VIEWER_CLIENT,
    scope: 'openid profile email read:dicom',
    permissions: ['read:dicom'],
    ...extra,
  };
}

/** The Auth0 profile, client credentials: azp, gty client-credentials, sub `<client id>@clients`. */
export function auth0Service(nowMs: number, extra: Claims = {}): Claims {
  return {
    iss: AUTH0_ISSUER,
    sub: `${AUTH0_PACS_CLIENT}@clients`,
    aud: AUTH0_AUDIENCE,
    ...times(nowMs),
    scope: 'read:dicom write:dicom',
    gty: 'client-credentials',
    azp: AUTH0_PACS_CLIENT,
    permissions: ['read:dicom', 'write:dicom'],
    ...extra,
  };
}

/** The RFC 9068 profile, client credentials (sign with header typ at+jwt). */
export function auth0Rfc9068Service(nowMs: number, extra: Claims = {}): Claims {
  return {
    iss: AUTH0_ISSUER,
    sub: `${AUTH0_PACS_CLIENT}@clients`,
    aud: AUTH0_AUDIENCE,
    ...times(nowMs),
    jti: 'f8a3b1c2d4e5f6a7b8c9',
    client_id: AUTH0_PACS_CLIENT,
    scope: 'read:dicom write:dicom',
    permissions: ['read:dicom', 'write:dicom'],
    ...extra,
  };
}

/**
 * The ID token of the viewer's sign-in: aud = the application's client id, the profile claims,
 * sid, and the nonce the SDK sends (Auth0 recommends one and requires it for the implicit flow).
 * Auth0 access tokens carry no nonce. Sources:
 * https://auth0.com/docs/secure/tokens/id-tokens/id-token-structure and
 * https://auth0.com/docs/secure/tokens/id-tokens/validate-id-tokens
 */
export function auth0UserId(nowMs: number, extra: Claims = {}): Claims {
  return {
    nickname: 'rita',
    name: 'Rita Radiologist',
    picture: 'https://s.gravatar.com/avatar/0000000000000000000000000000000?s=480&r=pg',
    updated_at: '2026-11-01T09:00:00.000Z',
    email: 'rita@example.org',
    email_verified: true,
    iss: AUTH0_ISSUER,
    aud: AUTH0_VIEWER_CLIENT,
    sub: 'auth0|64f1c2d3e4f5a6b7c8d9e0f1',
    ...times(nowMs),
    sid: 'JsRmTUf37F-zR2vKtStdDMV4BDtT710t',
    nonce: 'Y2FmZWJhYmUtbm9uY2UtZnJvbS1hdXRoMC1zcGEtanM',
    ...extra,
  };
}

// --- Amazon Cognito ------------------------------------------------------------------------------
// Source: Amazon Cognito Developer Guide, "Understanding the access token" (sub, cognito:groups,
// iss https://cognito-idp.{region}.amazonaws.com/{poolId}, version 2, client_id, origin_jti,
// token_use "access", scope, auth_time, exp, iat, jti, username; no aud),
// https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
// and "Understanding the identity (ID) token" (aud = app client id, token_use "id", cognito:username),
// https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html ;
// M2M (client credentials, needs a user pool domain and a resource server): sub = client_id, only
// custom scopes "<resource server identifier>/<scope>",
// https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-define-resource-servers.html .
// The header has kid and alg, no typ.

export const COGNITO_POOL = 'us-east-1_AbCdEfGhI';
export const COGNITO_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${COGNITO_POOL}`;
export const COGNITO_VIEWER_CLIENT = '4pc3pahhrtsb0c2gkhf6b9l1o7';
export const COGNITO_PACS_CLIENT = '1example23456789abcdefghij';
/** The resource server's identifier; its custom scopes are `ahi/dicom.read` and `ahi/dicom.write`. */
export const COGNITO_RESOURCE_SERVER = 'ahi';
export const COGNITO_HEADER: HeaderShape = {};

export function cognitoUserAccess(nowMs: number, extra: Claims = {}): Claims {
  return {
    sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    'cognito:groups': ['radiologists'],
    iss: COGNITO_ISSUER,
    version: 2,
    client_id: COGNITO_VIEWER_CLIENT,
    origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    event_id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    token_use: 'access',
    scope: `openid profile ${COGNITO_RESOURCE_SERVER}/dicom.read`,
    auth_time: epoch(nowMs, -600),
    exp: epoch(nowMs, 3000),
    iat: epoch(nowMs, -600),
    jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    username: 'rita',
    ...extra,
  };
}

export function cognitoServiceAccess(nowMs: number, extra: Claims = {}): Claims {
  return {
    sub: COGNITO_PACS_CLIENT,
    token_use: 'access',
    scope: `${COGNITO_RESOURCE_SERVER}/dicom.read ${COGNITO_RESOURCE_SERVER}/dicom.write`,
    auth_time: epoch(nowMs, -600),
    iss: COGNITO_ISSUER,
    exp: epoch(nowMs, 3000),
    iat: epoch(nowMs, -600),
    version: 2,
    jti: 'bbbbbbbb-cccc-dddd-eeee-ffffffffffff',
    client_id: COGNITO_PACS_CLIENT,
    ...extra,
  };
}

/** The ID token of the same sign-in: aud = the app client, token_use id. Must be refused. */
export function cognitoUserId(nowMs: number, extra: Claims = {}): Claims {
  return {
    at_hash: 'cDqsOpgFd-HhNCAfqqcjdQ',
    sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    'cognito:groups': ['radiologists'],
    email_verified: true,
    iss: COGNITO_ISSUER,
    'cognito:username': 'rita',
    origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    aud: COGNITO_VIEWER_CLIENT,
    event_id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    token_use: 'id',
    auth_time: epoch(nowMs, -600),
    exp: epoch(nowMs, 3000),
    iat: epoch(nowMs, -600),
    jti: 'cccccccc-dddd-eeee-ffff-aaaaaaaaaaaa',
    email: 'rita@example.org',
    ...extra,
  };
}

// --- AD FS (2016 and later) -------------------------------------------------------------------------
// Sources: the OpenID Connect 1.0 Protocol Extensions, `access_token_issuer` ("the issuer of any
// access tokens issued by the AD FS server"), which differs from the discovery `issuer`
// https://{host}/adfs that ID tokens carry,
// https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-oidce/586de7dd-3385-47c7-93a2-935d9e90441c ;
// AD FS access tokens in the wild carry the Federation Service identifier as iss (by default
// http://{host}/adfs/services/trust), https://github.com/MicrosoftDocs/windowsserverdocs/issues/551 and
// https://github.com/aspnet/Security/issues/1852 ; aud is the Web API's relying party identifier
// ("must match the identifier of the resource or web API"),
// https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/development/ad-fs-openid-connect-oauth-concepts ;
// appid, apptype, authmethod, auth_time (an ISO 8601 string), ver "1.0", scp and the claims of the
// Web API's issuance transform rules (upn, unique_name, role), as in the access tokens decoded in
// https://github.com/snok/django-auth-adfs (tests/utils.py, tests/mock_files/adfs-openid-configuration.json).
// Header typ JWT, RS256, x5t = kid; keys at https://{host}/adfs/discovery/keys.

export const ADFS_HOST = 'adfs.example.org';
/**
 * The Federation Service identifier, which AD FS puts in its access tokens' iss: by default
 * `http://{host}/adfs/services/trust`. An http issuer is only an identifier to the authorizer, so
 * the configuration pins the https jwksUri (docs/idp/adfs.md).
 */
export const ADFS_ISSUER = `http://${ADFS_HOST}/adfs/services/trust`;
/** The identifier of a farm whose administrators changed it to the https form. */
export const ADFS_CHANGED_ISSUER = `https://${ADFS_HOST}/adfs/services/trust`;
/** The discovery `issuer`, carried by AD FS ID tokens (not by its access tokens). */
export const ADFS_ID_TOKEN_ISSUER = `https://${ADFS_HOST}/adfs`;
export const ADFS_JWKS = `https://${ADFS_HOST}/adfs/discovery/keys`;
/** The Web API's relying party identifier (an absolute URI, so aud carries it unchanged). */
export const ADFS_AUDIENCE = 'https://dicomweb.example.org/';
export const ADFS_VIEWER_CLIENT = '9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d';
export const ADFS_PACS_CLIENT = '2f3e4d5c-6b7a-4898-a7b6-c5d4e3f2a1b0';
export const adfsHeader = (kid: string): HeaderShape => ({ typ: 'JWT', x5t: kid });

/** A radiologist signed in at the viewer (a public client): role from an issuance transform rule. */
export function adfsUser(nowMs: number, extra: Claims = {}): Claims {
  return {
    aud: ADFS_AUDIENCE,
    iss: ADFS_ISSUER,
    ...times(nowMs),
    apptype: 'Public',
    appid: ADFS_VIEWER_CLIENT,
    authmethod: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    auth_time: new Date(nowMs - 620_000).toISOString(),
    ver: '1.0',
    scp: 'dicom.read openid',
    sub: 'rita@example.org',
    upn: 'rita@example.org',
    unique_name: 'EXAMPLE\\rita',
    role: 'DICOM Readers',
    ...extra,
  };
}

/** The PACS gateway (a confidential server application, client credentials). */
export function adfsService(nowMs: number, extra: Claims = {}): Claims {
  return {
    aud: ADFS_AUDIENCE,
    iss: ADFS_ISSUER,
    ...times(nowMs),
    apptype: 'Confidential',
    appid: ADFS_PACS_CLIENT,
    authmethod: 'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password',
    auth_time: new Date(nowMs - 600_000).toISOString(),
    ver: '1.0',
    scp: 'dicom.write',
    sub: ADFS_PACS_CLIENT,
    ...extra,
  };
}

/** The viewer's ID token: iss is the discovery issuer, aud the client, nonce of the sign-in. */
export function adfsUserId(nowMs: number, extra: Claims = {}): Claims {
  return {
    aud: ADFS_VIEWER_CLIENT,
    iss: ADFS_ID_TOKEN_ISSUER,
    ...times(nowMs),
    auth_time: epoch(nowMs, -620),
    nonce: 'YWRmcy1ub25jZS1mcm9tLXRoZS12aWV3ZXI',
    sub: 'Rl7sOj0nDbgh8BVWZegrkvgAKaB/SwNuEbmORcWcae4=',
    upn: 'rita@example.org',
    unique_name: 'EXAMPLE\\rita',
    apptype: 'Public',
    appid: ADFS_VIEWER_CLIENT,
    sid: 'S-1-5-21-1004336348-1177238915-682003330-512',
    ver: '1.0',
    ...extra,
  };
}
