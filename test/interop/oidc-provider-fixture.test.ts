/**
 * The oidc-provider fixture is a real OpenID Provider: its discovery document and JWKS are fetched
 * over HTTP, and every client-credentials token it issues is verified independently with jose.
 */

import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, type JWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type OidcProviderFixture,
  type OidcSigningAlg,
  startOidcProvider,
} from '../support/oidc-provider.ts';
import { match } from '../support/matchers.ts';

async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/(jwk-set\+)?json/);
  return (await response.json()) as Record<string, unknown>;
}

async function verifyAccessToken(fixture: OidcProviderFixture, token: string, alg: OidcSigningAlg) {
  const jwks = createRemoteJWKSet(new URL(fixture.jwksUri));
  return jwtVerify(token, jwks, {
    issuer: fixture.issuer,
    audience: fixture.audience,
    typ: 'at+jwt',
    algorithms: [alg],
    requiredClaims: ['iss', 'sub', 'aud', 'client_id', 'iat', 'exp', 'jti'],
  });
}

async function connectionError(url: string): Promise<unknown> {
  try {
    await fetch(url);
  } catch (error) {
    return (error as { cause?: { code?: unknown } }).cause?.code;
  }
  return 'connected';
}

describe.each(['RS256', 'ES256'] as const)('the oidc-provider fixture signing with %s', (alg) => {
  let fixture: OidcProviderFixture;

  beforeAll(async () => {
    fixture = await startOidcProvider({ signingAlg: alg });
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('uses the loopback URL with the real port, without a trailing slash, as its issuer', () => {
    expect(fixture.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(fixture.issuer).port).not.toBe('0');
  });

  it('publishes a discovery document naming its issuer, JWKS and token endpoint', async () => {
    const discovery = await getJson(`${fixture.issuer}/.well-known/openid-configuration`);
    expect(discovery['issuer']).toBe(fixture.issuer);
    expect(discovery['jwks_uri']).toBe(fixture.jwksUri);
    expect(discovery['token_endpoint']).toBe(fixture.tokenEndpoint);
    expect(discovery['grant_types_supported']).toContain('client_credentials');
    expect(fixture.jwksUri.startsWith(`${fixture.issuer}/`)).toBe(true);
  });

  it(`publishes only public ${alg} keys, each with a kid, alg and use sig`, async () => {
    const jwks = await getJson(fixture.jwksUri);
    const keys = jwks['keys'] as JWK[];
    expect(keys).toHaveLength(1);
    for (const key of keys) {
      expect(key.alg).toBe(alg);
      expect(key.use).toBe('sig');
      expect(typeof key.kid).toBe('string');
      expect(key.d).toBeUndefined();
      expect(key.p).toBeUndefined();
    }
    expect(keys.map((key) => key.kid)).toEqual(fixture.signingKeys.map((key) => key.kid));
  });

  it.each([
    ['dicom-reader', 'dicom.read'],
    ['dicom-writer', 'dicom.read dicom.write'],
  ])(
    'issues %s an at+jwt access token with scope "%s" that verifies against the published JWKS',
    async (clientId, scope) => {
      const token = await fixture.getToken(clientId);
      const { payload, protectedHeader } = await verifyAccessToken(fixture, token, alg);

      expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: fixture.signingKeys[0]?.kid });
      expect(payload).toEqual({
        iss: fixture.issuer,
        sub: clientId,
        aud: fixture.audience,
        client_id: clientId,
        scope,
        iat: match.any(Number),
        exp: match.any(Number),
        jti: match.any(String),
      });
      expect(payload.exp! - payload.iat!).toBe(600);
      expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
    },
  );

  it('issues a fresh jti for every token', async () => {
    const first = await verifyAccessToken(fixture, await fixture.getToken('dicom-reader'), alg);
    const second = await verifyAccessToken(fixture, await fixture.getToken('dicom-reader'), alg);
    expect(first.payload.jti).not.toBe(second.payload.jti);
  });

  it('narrows a token to the requested subset of the client scopes', async () => {
    const token = await fixture.getToken('dicom-writer', { scope: 'dicom.read' });
    const { payload } = await verifyAccessToken(fixture, token, alg);
    expect(payload['scope']).toBe('dicom.read');
  });

  it('issues a token without a scope claim when no scope is requested', async () => {
    const token = await fixture.getToken('dicom-reader', { scope: '' });
    const { payload } = await verifyAccessToken(fixture, token, alg);
    expect(payload['scope']).toBeUndefined();
  });

  it('refuses a client a scope it is not registered for', async () => {
    await expect(fixture.getToken('dicom-reader', { scope: 'dicom.read dicom.write' })).rejects.toThrow(
      /HTTP 400.*invalid_scope/,
    );
  });

  it('refuses a client that presents the wrong secret', async () => {
    const response = await fetch(fixture.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('dicom-reader:wrong').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });
});

describe('the oidc-provider fixture started with options', () => {
  it('sets the token lifetime from accessTokenTtlSeconds', async () => {
    const fixture = await startOidcProvider({ accessTokenTtlSeconds: 42 });
    try {
      const { payload } = await verifyAccessToken(fixture, await fixture.getToken('dicom-reader'), 'RS256');
      expect(payload.exp! - payload.iat!).toBe(42);
    } finally {
      await fixture.close();
    }
  });

  it('signs with the first given key and publishes all given keys, keeping the issuer across a restart on the same port', async () => {
    const privateJwk = async (kid: string): Promise<JWK> => ({
      ...(await exportJWK(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)),
      kid,
      alg: 'ES256',
      use: 'sig',
    });
    const oldKey = await privateJwk('rotation-old');
    const newKey = await privateJwk('rotation-new');

    const before = await startOidcProvider({ keys: [oldKey] });
    const port = Number(new URL(before.issuer).port);
    const oldToken = await before.getToken('dicom-reader');
    expect(before.signingAlg).toBe('ES256');
    expect(decodeProtectedHeader(oldToken).kid).toBe('rotation-old');
    await before.close();

    const after = await startOidcProvider({ keys: [newKey, oldKey], port });
    try {
      expect(after.issuer).toBe(before.issuer);
      const newToken = await after.getToken('dicom-reader');
      expect(decodeProtectedHeader(newToken).kid).toBe('rotation-new');
      const jwks = await getJson(after.jwksUri);
      expect((jwks['keys'] as JWK[]).map((key) => key.kid)).toEqual(['rotation-new', 'rotation-old']);
      await verifyAccessToken(after, newToken, 'ES256');
      await verifyAccessToken(after, oldToken, 'ES256');
    } finally {
      await after.close();
    }
  });

  it('rejects keys that cannot sign with the chosen algorithm', async () => {
    const rsa = { ...(await exportJWK(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)) };
    await expect(startOidcProvider({ keys: [rsa], signingAlg: 'ES256' })).rejects.toThrow(/can sign ES256/);
  });

  it('answers every request with connection: close, so no client keeps a socket close() would cut', async () => {
    const fixture = await startOidcProvider();
    try {
      const response = await fetch(`${fixture.issuer}/.well-known/openid-configuration`);
      expect(response.headers.get('connection')).toBe('close');
    } finally {
      await fixture.close();
    }
  });

  it('leaves nothing listening after close(), destroying a connection still open to it', async () => {
    const fixture = await startOidcProvider();
    const discoveryUrl = `${fixture.issuer}/.well-known/openid-configuration`;
    expect((await fetch(discoveryUrl)).status).toBe(200);
    await fixture.getToken('dicom-writer');
    const idle = connect(Number(new URL(fixture.issuer).port), '127.0.0.1');
    await once(idle, 'connect');
    const idleClosed = once(idle, 'close');

    await fixture.close();

    await idleClosed;
    expect(await connectionError(discoveryUrl)).toBe('ECONNREFUSED');
  });
});
