/**
 * Contract tests of the built Lambda bundle (dist/handler.mjs), configured through AUTHORIZER_CONFIG
 * exactly as docs/configuration.md says, against real JWKS servers on 127.0.0.1 and tokens
 * minted now. The token shapes follow real 403 reports (Entra ID v1 app and user tokens, a Keycloak
 * service account), as in test/support/fixtures/seed-tokens.ts.
 */

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_CODES } from '../../src/core/decision/reason-codes.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { b64url, epoch, makeKey, signRaw, signToken, type TestKey } from '../support/keys.ts';
import { allLines, type LoadedHandler, loadHandler } from '../support/load-handler.ts';
import { match } from '../support/matchers.ts';

const TENANT = '1fa9468c-81e2-46be-8fb6-57d421e024ba';
const ENTRA_ISS = `https://sts.windows.net/${TENANT}/`;
const ENTRA_AUD = 'https://dicom.healthcareapis.azure.com';
const KEYCLOAK_ISS = 'https://keycloak.example.org:8843/realms/dcm4che';
const RFC9068_ISS = 'https://idp.example.org';
const DOWN_ISS = 'https://down.example.org';
const RO = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';
const RW = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadWrite';
const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const OTHER_DS = 'ffffffffffffffffffffffffffffffff';

let idp: IdpServer;
let entraKey: TestKey;
let keycloakKey: TestKey;
let rfcKey: TestKey;
let strangerKey: TestKey;
let handler: LoadedHandler;
const seen = new Set<string>();

function config(idpUrl: string) {
  return {
    issuers: [
      { issuer: ENTRA_ISS, jwksUri: `${idpUrl}/entra/keys`, audience: ENTRA_AUD, tenantId: TENANT },
      { issuer: KEYCLOAK_ISS, jwksUri: `${idpUrl}/keycloak/certs`, clientIds: ['curl'] },
      {
        issuer: RFC9068_ISS,
        jwksUri: `${idpUrl}/rfc/jwks`,
        audience: 'https://dicomweb.example.org',
        tokenType: 'at+jwt',
        algorithms: ['ES256'],
      },
      { issuer: DOWN_ISS, jwksUri: `${idpUrl}/down/jwks`, audience: 'x' },
    ],
    datastores: [DS],
    rules: [
      { name: 'radiologists', claims: { scp: 'Dicom.ReadWrite' }, roleArn: RW },
      { name: 'pacs-app', claims: { idtyp: 'app', roles: 'DICOM.Writer' }, roleArn: RW },
      {
        name: 'keycloak-readers',
        claims: { 'realm_access.roles': 'user' },
        operations: ['read'],
        roleArn: RO,
      },
      {
        name: 'rfc-readers',
        issuer: RFC9068_ISS,
        claims: { scope: 'dicom.read' },
        operations: ['read'],
        roleArn: RO,
      },
    ],
  };
}

const now = () => Date.now();

/** Entra ID v1 client-credentials token, shaped like a real one (no `roles`). */
function entraAppClaims(extra: Record<string, unknown> = {}) {
  return {
    aud: ENTRA_AUD,
    iss: ENTRA_ISS,
    iat: epoch(now(), -60),
    nbf: epoch(now(), -60),
    exp: epoch(now(), 3600),
    aio: 'k2RgYGCaERT/xezErfbw8Cd/vXVPAQA=',
    appid: '55fe42ed-27e9-45ea-9c98-3401075e54cf',
    appidacr: '2',
    idp: ENTRA_ISS,
    idtyp: 'app',
    oid: '39e2584e-962e-4f91-b6e1-538c04960f50',
    sub: '39e2584e-962e-4f91-b6e1-538c04960f50',
    tid: TENANT,
    uti: 'fo9VR_HHOkOVT84srAsgAA',
    ver: '1.0',
    ...extra,
  };
}

/** Entra ID v1 user token (password grant in the seed), with personal claims we must never log. */
function entraUserClaims(extra: Record<string, unknown> = {}) {
  return {
    ...entraAppClaims(),
    appidacr: '1',
    family_name: 'Doe-Family',
    given_name: 'Jane-Given',
    idtyp: 'user',
    name: 'Jane Doe-Personal',
    oid: '8076b46f-ffeb-4e37-9626-03421edc12bf',
    scp: 'Dicom.ReadWrite',
    sub: 'wjns8P2Zm5wNRcsQzQkXKflFtIVpIzQcv_yyoaDNcaY',
    unique_name: 'jane.doe@hospital.example',
    upn: 'jane.doe@hospital.example',
    ...extra,
  };
}

/** Keycloak service-account token, shaped like a real one. */
function keycloakClaims(extra: Record<string, unknown> = {}) {
  return {
    exp: epoch(now(), 300),
    iat: epoch(now(), -5),
    jti: randomUUID(),
    iss: KEYCLOAK_ISS,
    sub: '24c78e9d-36c3-49a1-bf5d-180e7fe37f32',
    typ: 'Bearer',
    azp: 'curl',
    acr: '1',
    realm_access: { roles: ['offline_access', 'default-roles-dcm4che', 'uma_authorization', 'user'] },
    scope: 'profile email',
    clientHost: '192.168.2.223',
    email_verified: false,
    clientId: 'curl',
    preferred_username: 'service-account-curl',
    clientAddress: '192.168.2.223',
    ...extra,
  };
}

function rfc9068Claims(extra: Record<string, unknown> = {}) {
  return {
    iss: RFC9068_ISS,
    sub: 'dicom-reader',
    aud: 'https://dicomweb.example.org',
    client_id: 'dicom-reader',
    scope: 'dicom.read',
    jti: randomUUID(),
    iat: epoch(now(), -1),
    exp: epoch(now(), 600),
    ...extra,
  };
}

const entraToken = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  signToken(entraKey, claims, { typ: 'JWT', x5t: entraKey.kid, ...header });

async function decide(token: unknown, operation = 'GetDICOMInstance', datastoreId = DS, h = handler) {
  const result = await h.invoke({ datastoreId, operation, bearerToken: token });
  const reason = h.lastReason();
  if (reason) seen.add(reason);
  return { result, reason };
}

beforeAll(async () => {
  [entraKey, keycloakKey, rfcKey, strangerKey] = await Promise.all([
    makeKey('RS256', 'JDNa_4i4r7FgigL3sHIlI3xV-IU'),
    makeKey('RS256', 'EdNidhhDR32v_eRSJxGV6TmiT1O9Z7uml7r1exBvcY0'),
    makeKey('ES256', 'rfc-es256'),
    makeKey('RS256', 'stranger'),
  ]);
  idp = await startIdpServer();
  // Entra publishes keys with x5t/x5c and no alg.
  const { alg: _alg, ...entraJwk } = entraKey.jwk;
  idp.on('/entra/keys', { kind: 'json', body: { keys: [{ ...entraJwk, x5t: entraKey.kid }] } });
  const dup = await makeKey('RS256', 'dup');
  const dup2 = await makeKey('RS256', 'dup');
  idp.on('/keycloak/certs', { kind: 'json', body: { keys: [keycloakKey.jwk, dup.jwk, dup2.jwk] } });
  idp.on('/rfc/jwks', { kind: 'json', body: { keys: [rfcKey.jwk] } });
  idp.on('/down/jwks', { kind: 'status', status: 503 });
  handler = await loadHandler({
    AUTHORIZER_CONFIG: JSON.stringify(config(idp.url)),
    AUTHORIZER_AUDIT_HASH_KEY: AUDIT_HASH_KEY,
  });
});

afterAll(async () => {
  await idp?.close();
});

describe('the built handler with seed-shaped tokens', () => {
  it('answers valid with an empty role for an Entra client-credentials token without roles (no_role_mapping)', async () => {
    const { result, reason } = await decide(await entraToken(entraAppClaims()));
    expect(result).toEqual({ isTokenValid: true, roleArn: '' });
    expect(reason).toBe('no_role_mapping');
  });

  it('returns the read-write role for an Entra app token that carries the DICOM.Writer app role', async () => {
    const { result, reason } = await decide(
      await entraToken(entraAppClaims({ roles: ['DICOM.Writer'] })),
      'StoreDICOM',
    );
    expect(result).toEqual({ isTokenValid: true, roleArn: RW });
    expect(reason).toBe('allowed');
  });

  it('returns the read-write role for an Entra user token with scp Dicom.ReadWrite', async () => {
    const { result } = await decide(await entraToken(entraUserClaims()));
    expect(result).toEqual({ isTokenValid: true, roleArn: RW });
    const record = handler.decisions().at(-1)!;
    expect(record).toMatchObject({
      decision: 'allow',
      rule: 'radiologists',
      roleArn: RW,
      iss: ENTRA_ISS,
      tid: TENANT,
    });
  });

  it('returns the read-only role for a Keycloak service account with realm role user on a read', async () => {
    const token = await signToken(keycloakKey, keycloakClaims(), { typ: 'JWT' });
    const { result } = await decide(token, 'SearchDICOMStudies');
    expect(result).toEqual({ isTokenValid: true, roleArn: RO });
  });

  it('denies a write by the same Keycloak service account with operation_not_permitted', async () => {
    const token = await signToken(keycloakKey, keycloakClaims(), { typ: 'JWT' });
    const { result, reason } = await decide(token, 'StoreDICOMStudy');
    expect(result).toEqual({ isTokenValid: true, roleArn: '' });
    expect(reason).toBe('operation_not_permitted');
  });

  it('returns the read-only role for an RFC 9068 at+jwt ES256 token', async () => {
    const token = await signToken(rfcKey, rfc9068Claims(), { typ: 'at+jwt' });
    const { result } = await decide(token, 'GetDICOMInstanceFrames');
    expect(result).toEqual({ isTokenValid: true, roleArn: RO });
  });
});

describe('the built handler names every denial with its reason code', () => {
  type Case = { event: Record<string, unknown>; valid?: boolean };
  const cases: [string, () => Case | Promise<Case>][] = [
    ['malformed_request', () => ({ event: { operation: 'GetDICOMInstance', bearerToken: 'x' } })],
    [
      'unknown_datastore',
      () => ({ event: { datastoreId: OTHER_DS, operation: 'GetDICOMInstance', bearerToken: 'x.y.z' } }),
    ],
    [
      'unknown_operation',
      () => ({ event: { datastoreId: DS, operation: 'DeleteDICOMStudy', bearerToken: 'x.y.z' } }),
    ],
    ['token_missing', () => ({ event: { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: '' } })],
    ['token_too_large', () => ({ event: ev('a'.repeat(40_000)) })],
    ['token_malformed', async () => ({ event: ev(`Bearer ${await entraToken(entraUserClaims())}`) })],
    ['header_invalid', () => ({ event: ev(signRaw(entraKey, '[]', JSON.stringify(entraUserClaims()))) })],
    [
      'header_forbidden_param',
      async () => ({ event: ev(await entraToken(entraUserClaims(), { jku: 'https://evil.example/jwks' })) }),
    ],
    [
      'alg_not_allowed',
      () => ({
        event: ev(`${b64url('{"alg":"none","kid":"x"}')}.${b64url(JSON.stringify(entraUserClaims()))}.AA`),
      }),
    ],
    ['typ_invalid', async () => ({ event: ev(await signToken(rfcKey, rfc9068Claims(), { typ: 'JWT' })) })],
    [
      'kid_missing',
      () => ({
        event: ev(signRaw(entraKey, '{"alg":"RS256","typ":"JWT"}', JSON.stringify(entraUserClaims()))),
      }),
    ],
    ['kid_invalid', async () => ({ event: ev(await entraToken(entraUserClaims(), { kid: 'a\r\nb' })) })],
    [
      'kid_unknown',
      async () => ({ event: ev(await entraToken(entraUserClaims(), { kid: 'not-published' })) }),
    ],
    [
      'jwks_ambiguous_key',
      async () => ({ event: ev(await signToken(keycloakKey, keycloakClaims(), { kid: 'dup' })) }),
    ],
    [
      'issuer_invalid',
      async () => ({ event: ev(await entraToken(entraUserClaims({ iss: 'https://evil.example/' }))) }),
    ],
    [
      'tenant_not_allowed',
      async () => ({
        event: ev(await entraToken(entraUserClaims({ tid: '00000000-0000-0000-0000-000000000000' }))),
      }),
    ],
    [
      'signature_invalid',
      async () => ({ event: ev(await signToken({ ...strangerKey, kid: entraKey.kid }, entraUserClaims())) }),
    ],
    [
      'claims_invalid',
      () => ({
        event: ev(
          signRaw(
            entraKey,
            JSON.stringify({ alg: 'RS256', kid: entraKey.kid }),
            `{"iss":"https://evil.example/",${JSON.stringify(entraUserClaims()).slice(1)}`,
          ),
        ),
      }),
    ],
    ['claim_missing', async () => ({ event: ev(await entraToken(entraUserClaims({ exp: undefined }))) })],
    [
      'audience_invalid',
      async () => ({ event: ev(await entraToken(entraUserClaims({ aud: 'https://graph.microsoft.com' }))) }),
    ],
    [
      'client_not_allowed',
      async () => ({ event: ev(await signToken(keycloakKey, keycloakClaims({ azp: 'someone-else' }))) }),
    ],
    [
      'token_type_invalid',
      async () => ({ event: ev(await entraToken(entraUserClaims({ nonce: 'n-0S6_WzA2Mj' }))) }),
    ],
    [
      'token_expired',
      async () => ({ event: ev(await entraToken(entraUserClaims({ exp: epoch(now(), -120) }))) }),
    ],
    [
      'token_not_yet_valid',
      async () => ({ event: ev(await entraToken(entraUserClaims({ nbf: epoch(now(), 600) }))) }),
    ],
    [
      'token_lifetime_exceeded',
      async () => ({ event: ev(await entraToken(entraUserClaims({ iat: epoch(now(), -13 * 3600) }))) }),
    ],
    [
      'idp_unavailable',
      async () => ({
        event: ev(
          await signToken(strangerKey, { ...rfc9068Claims(), iss: DOWN_ISS, aud: 'x' }, { alg: 'RS256' }),
        ),
      }),
    ],
  ];

  function ev(bearerToken: string) {
    return { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken };
  }

  it.each(cases)('denies with %s', async (expected, make) => {
    const { event } = await make();
    const result = await handler.invoke(event);
    const reason = handler.lastReason();
    if (reason) seen.add(reason);
    expect(reason).toBe(expected);
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
  });

  it('denies every request with config_unavailable when no configuration source is set', async () => {
    const h = await loadHandler({});
    const { result, reason } = await decide(await entraToken(entraUserClaims()), 'GetDICOMInstance', DS, h);
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(reason).toBe('config_unavailable');
  });

  it('denies with config_invalid and logs the JSON path of a typo at init', async () => {
    const bad = config(idp.url) as Record<string, unknown>;
    (bad['issuers'] as Record<string, unknown>[])[0]!['audiance'] = 'typo';
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(bad) });
    const { reason } = await decide(await entraToken(entraUserClaims()), 'GetDICOMInstance', DS, h);
    expect(reason).toBe('config_invalid');
    expect(h.lines.join('\n')).toContain('$.issuers[0].audiance');
  });

  it('denies with internal_error when a rule names a role outside the deployment allowlist', async () => {
    const h = await loadHandler({
      AUTHORIZER_CONFIG: JSON.stringify(config(idp.url)),
      AUTHORIZER_ALLOWED_ROLE_ARNS: RO,
    });
    const { result, reason } = await decide(await entraToken(entraUserClaims()), 'GetDICOMInstance', DS, h);
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(reason).toBe('internal_error');
  });

  it('reaches every reason code except deadline_exceeded through the built bundle', () => {
    // deadline_exceeded is a safety net that well-behaved dependencies never reach; it is covered
    // by test/authorize.test.ts with a dependency that ignores its signal.
    const missing = REASON_CODES.filter((code) => code !== 'deadline_exceeded' && !seen.has(code));
    expect(missing).toEqual([]);
  });
});

describe('the built handler under an unknown-kid flood', () => {
  it('fetches the JWKS at most twice for forty tokens with random kids', async () => {
    const server = await startIdpServer();
    try {
      const key = await makeKey('RS256', 'real');
      server.on('/entra/keys', { kind: 'json', body: { keys: [key.jwk] } });
      const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config(server.url)) });
      for (let i = 0; i < 40; i += 1) {
        const token = await signToken({ ...key, kid: `random-${i}-${randomUUID()}` }, entraUserClaims());
        const { reason } = await decide(token, 'GetDICOMInstance', DS, h);
        expect(reason).toBe('kid_unknown');
      }
      expect(server.hits('/entra/keys')).toBeLessThanOrEqual(2);
    } finally {
      await server.close();
    }
  });
});

const AUDIT_HASH_KEY = 'contract-test-audit-key-0123456789abcdef';

describe('the built handler with a repeated token', () => {
  it('answers the second request from the verified-token cache with the same decision', async () => {
    // A unique jti: RS256 signatures are deterministic, so an identical token minted earlier in the
    // same second would already be cached.
    const token = await entraToken(entraUserClaims({ jti: randomUUID() }));

    const first = await decide(token, 'SearchDICOMStudies');
    const firstRecord = handler.decisions().at(-1);
    const second = await decide(token, 'GetDICOMInstanceFrames');
    const secondRecord = handler.decisions().at(-1);

    expect(first.result).toEqual({ isTokenValid: true, roleArn: RW });
    expect(second.result).toEqual({ isTokenValid: true, roleArn: RW });
    expect(firstRecord).toMatchObject({ tokenCache: 'miss', tokenCacheHit: 0 });
    expect(firstRecord?.['subHash']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(secondRecord).toMatchObject({
      tokenCache: 'hit',
      tokenCacheHit: 1,
      subHash: firstRecord?.['subHash'],
    });
  });

  it('still evaluates the policy per operation for a cached token', async () => {
    const token = await signToken(keycloakKey, keycloakClaims(), { typ: 'JWT' });

    const read = await decide(token, 'SearchDICOMSeries');
    const write = await decide(token, 'StoreDICOM');

    expect(read.result).toEqual({ isTokenValid: true, roleArn: RO });
    expect(write.reason).toBe('operation_not_permitted');
    expect(handler.decisions().at(-1)).toMatchObject({ tokenCache: 'hit' });
  });
});

describe('the built handler with a malformed Lambda context', () => {
  it.each([
    ['a number instead of a function', { getRemainingTimeInMillis: 3000 }],
    [
      'a function that throws',
      {
        getRemainingTimeInMillis: () => {
          throw new Error('boom');
        },
      },
    ],
    ['a function returning NaN', { getRemainingTimeInMillis: () => Number.NaN }],
    ['null', null],
    ['a string', 'not a context'],
  ])(
    'decides normally with exactly one audit line when getRemainingTimeInMillis is %s',
    async (_name, context) => {
      const before = handler.decisions().length;
      const token = await entraToken(entraUserClaims());

      const result = await handler.invokeRaw(
        { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: token },
        context,
      );

      expect(result).toEqual({ isTokenValid: true, roleArn: RW });
      expect(handler.decisions().length).toBe(before + 1);
    },
  );
});

describe('the last error layer of the built handler', () => {
  it('denies with a full internal_error audit line (EMF included) when something escapes the pipeline', async () => {
    // Arrange: a context whose request id getter throws escapes into the handler's own catch.
    const before = handler.decisions().length;
    const hostileContext = {
      get awsRequestId(): string {
        throw new Error('boom');
      },
    };

    // Act
    const result = await handler.invokeRaw(
      { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: 'a.b.c' },
      hostileContext,
    );

    // Assert
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    const decisions = handler.decisions();
    expect(decisions.length).toBe(before + 1);
    const record = decisions.at(-1)!;
    expect(record).toMatchObject({
      decision: 'deny',
      reason: 'internal_error',
      decisions: 1,
      function: match.any(String),
    });
    expect(record['_aws']).toMatchObject({
      CloudWatchMetrics: [
        {
          Namespace: 'HealthImagingAuthorizer',
          Dimensions: [
            ['function', 'decision'],
            ['function', 'reason'],
          ],
        },
      ],
    });
  });
});

describe('log hygiene of the built handler', () => {
  it('writes exactly one audit line per decision with the reason code', async () => {
    const before = handler.decisions().length;
    await decide(await entraToken(entraUserClaims()));
    expect(handler.decisions().length).toBe(before + 1);
  });

  it('never logs a token segment, a personal claim or a raw control character', () => {
    expect(allLines.length).toBeGreaterThan(40);
    for (const line of allLines) {
      expect(line).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
      for (const personal of ['Jane', 'Doe', 'jane.doe@hospital.example', 'service-account-curl']) {
        expect(line).not.toContain(personal);
      }
      expect(line.includes('\r') || line.includes('\u001b')).toBe(false);
      expect(line.length).toBeLessThan(4096);
    }
  });
});
