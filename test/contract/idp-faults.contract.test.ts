/**
 * Identity-provider faults against the built bundle: a loopback HTTP server hangs, trickles, fails,
 * redirects, or serves broken or hostile documents at cold start. Each case asserts the decision, the
 * fetch count, the fetch outcome reported (the EMF `outcome` dimension) and a generous time bound;
 * `npm run bench` measures the budgets.
 */

import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Behaviour, type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { epoch, jwksOf, makeKey, signRaw, signToken, type TestKey } from '../support/keys.ts';
import { type LoadedHandler, loadHandler } from '../support/load-handler.ts';

const ISS = 'https://idp.example.org';
const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const ROLE = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';

let key: TestKey;
let idp: IdpServer | undefined;

beforeAll(async () => {
  key = await makeKey('RS256', 'good');
});
afterEach(async () => {
  await idp?.close();
  idp = undefined;
});

function config(url: string, issuerOverrides: Record<string, unknown> = {}) {
  return {
    issuers: [{ issuer: ISS, jwksUri: `${url}/jwks`, audience: 'api', ...issuerOverrides }],
    rules: [{ name: 'readers', claims: { scope: 'dicom.read' }, roleArn: ROLE }],
  };
}

const token = (signer: TestKey = key) =>
  signToken(signer, {
    iss: ISS,
    sub: 'svc',
    aud: 'api',
    scope: 'dicom.read',
    jti: randomUUID(),
    iat: epoch(Date.now(), -5),
    exp: epoch(Date.now(), 300),
  });

/** jose refuses to sign with an RSA key under 2048 bits; node:crypto still does, as an attacker would. */
const weakToken = (signer: TestKey) =>
  signRaw(
    signer,
    JSON.stringify({ alg: 'RS256', kid: signer.kid }),
    JSON.stringify({
      iss: ISS,
      sub: 'svc',
      aud: 'api',
      scope: 'dicom.read',
      iat: epoch(Date.now()),
      exp: epoch(Date.now(), 300),
    }),
  );

async function timedInvoke(h: LoadedHandler, bearerToken: string) {
  const started = performance.now();
  const result = await h.invoke({ datastoreId: DS, operation: 'GetDICOMInstance', bearerToken });
  return { result, ms: performance.now() - started, reason: h.lastReason() };
}

function fetchOutcomes(h: LoadedHandler): string[] {
  return h.lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record['message'] === 'identity provider fetch')
    .map((record) => String(record['outcome']));
}

const hugeJwks = JSON.stringify({ keys: [{ kty: 'oct', k: 'A'.repeat(5 * 1024 * 1024) }] });

const faults: [string, () => Behaviour, string][] = [
  ['hangs', () => ({ kind: 'hang' }), 'timeout'],
  [
    'trickles a valid document a byte at a time',
    () => ({ kind: 'trickle', body: JSON.stringify(jwksOf(key)), intervalMs: 40 }),
    'timeout',
  ],
  ['answers 500', () => ({ kind: 'status', status: 500 }), 'status'],
  ['answers 503', () => ({ kind: 'status', status: 503 }), 'status'],
  [
    'answers 429 with Retry-After',
    () => ({ kind: 'status', status: 429, headers: { 'retry-after': '5' } }),
    'status',
  ],
  [
    'redirects to another host',
    () => ({ kind: 'redirect', location: 'http://localhost:9/jwks' }),
    'redirect',
  ],
  [
    'serves an HTML captive portal',
    () => ({ kind: 'raw', body: '<html>login</html>', contentType: 'text/html' }),
    'invalid',
  ],
  ['serves malformed JSON', () => ({ kind: 'raw', body: '{"keys": [' }), 'invalid'],
  ['serves keys that is not an array', () => ({ kind: 'json', body: { keys: { kid: 'good' } } }), 'invalid'],
  ['serves a 5 MB body', () => ({ kind: 'raw', body: hugeJwks }), 'too_large'],
  ['serves an empty key set', () => ({ kind: 'json', body: { keys: [] } }), 'no_usable_keys'],
];

describe('the built handler when the JWKS endpoint misbehaves at cold start', () => {
  it.each(faults)(
    'denies with idp_unavailable inside 1 s when the endpoint %s',
    async (_name, behaviour, outcome) => {
      idp = await startIdpServer();
      idp.on('/jwks', behaviour());
      const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config(idp.url)) });

      const first = await timedInvoke(h, await token());
      const second = await timedInvoke(h, await token());

      expect(first.result).toEqual({ isTokenValid: false, roleArn: '' });
      expect(first.reason).toBe('idp_unavailable');
      expect(first.ms).toBeLessThan(1000);
      expect(second.reason).toBe('idp_unavailable');
      expect(second.ms).toBeLessThan(1000);
      // A hanging or trickling fetch runs to its own 2 s limit (no request's deadline cuts it short).
      await expect.poll(() => fetchOutcomes(h), { timeout: 3_000 }).toContain(outcome);
      // One fetch only: the second request joined it, or the failure is remembered (backoff).
      expect(idp.hits('/jwks')).toBe(1);
    },
  );

  it('never follows a redirect to the target it names', async () => {
    idp = await startIdpServer();
    idp.on('/jwks', { kind: 'redirect', location: `${idp.url}/elsewhere` });
    idp.on('/elsewhere', { kind: 'json', body: jwksOf(key) });
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config(idp.url)) });

    const { reason } = await timedInvoke(h, await token());

    expect(reason).toBe('idp_unavailable');
    expect(idp.hits('/elsewhere')).toBe(0);
  });

  it('denies with idp_unavailable when the connection is refused', async () => {
    idp = await startIdpServer();
    const url = idp.url;
    await idp.close();
    idp = undefined;
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config(url)) });

    const { reason, ms } = await timedInvoke(h, await token());

    expect(reason).toBe('idp_unavailable');
    expect(ms).toBeLessThan(1000);
    expect(fetchOutcomes(h)).toContain('network');
  });

  it('drops unusable keys (symmetric, private, weak, enc, broken) and keeps the good one', async () => {
    idp = await startIdpServer();
    const weak = await makeKey('RS256', 'weak', 1024);
    const { d: _drop, ...pub } = key.jwk as Record<string, unknown>;
    idp.on('/jwks', {
      kind: 'json',
      body: {
        keys: [
          { kty: 'oct', kid: 'sym', k: 'c2VjcmV0' },
          { ...pub, kid: 'private', d: 'AAAA' },
          weak.jwk,
          { ...pub, kid: 'enc', use: 'enc' },
          { kty: 'RSA', kid: 'broken', n: '!!', e: 'AQAB' },
          key.jwk,
        ],
      },
    });
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config(idp.url)) });

    const good = await timedInvoke(h, await token());
    const weakResult = await timedInvoke(h, weakToken(weak));

    expect(good.result).toEqual({ isTokenValid: true, roleArn: ROLE });
    expect(weakResult.reason).toBe('kid_unknown');
  });

  it('denies with only unusable keys published', async () => {
    idp = await startIdpServer();
    const weak = await makeKey('RS256', 'good', 1024);
    idp.on('/jwks', { kind: 'json', body: jwksOf(weak) });
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config(idp.url)) });

    const { reason } = await timedInvoke(h, weakToken(weak));

    expect(reason).toBe('idp_unavailable');
    expect(fetchOutcomes(h)).toContain('no_usable_keys');
  });

  it('denies tokens whose kid is published twice with jwks_ambiguous_key', async () => {
    idp = await startIdpServer();
    const twin = await makeKey('RS256', 'good');
    idp.on('/jwks', { kind: 'json', body: jwksOf(key, twin) });
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config(idp.url)) });

    const { reason } = await timedInvoke(h, await token());

    expect(reason).toBe('jwks_ambiguous_key');
  });

  it('denies when discovery names another issuer, without fetching any JWKS', async () => {
    idp = await startIdpServer();
    const issuer = `${idp.url}/realms/ahi`;
    idp.on('/realms/ahi/.well-known/openid-configuration', {
      kind: 'json',
      body: { issuer: `${idp.url}/realms/other`, jwks_uri: `${idp.url}/jwks` },
    });
    idp.on('/jwks', { kind: 'json', body: jwksOf(key) });
    const h = await loadHandler({
      AUTHORIZER_CONFIG: JSON.stringify({
        issuers: [{ issuer, audience: 'api' }],
        rules: [{ name: 'readers', claims: { scope: 'dicom.read' }, roleArn: ROLE }],
      }),
    });
    const forged = await signToken(key, {
      iss: issuer,
      sub: 'svc',
      aud: 'api',
      scope: 'dicom.read',
      iat: epoch(Date.now()),
      exp: epoch(Date.now(), 300),
    });

    const { reason } = await timedInvoke(h, forged);

    expect(reason).toBe('idp_unavailable');
    expect(fetchOutcomes(h)).toContain('issuer_mismatch');
    expect(idp.hits('/jwks')).toBe(0);
  });
});

describe('the built handler when the IdP fails after a good fetch', () => {
  it('keeps allowing new tokens signed by the cached key while the endpoint hangs, each within 100 ms', async () => {
    idp = await startIdpServer();
    idp.on('/jwks', { kind: 'json', body: jwksOf(key) });
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config(idp.url)) });
    expect((await timedInvoke(h, await token())).result.roleArn).toBe(ROLE);
    idp.on('/jwks', { kind: 'hang' });

    const runs = [];
    for (let i = 0; i < 20; i += 1) runs.push(await timedInvoke(h, await token()));

    expect(runs.map((run) => run.result.roleArn)).toEqual(Array(20).fill(ROLE));
    expect(Math.max(...runs.map((run) => run.ms))).toBeLessThan(100);
    expect(h.decisions().at(-1)).toMatchObject({ keyCache: 'fresh', keyCacheHit: 1 });
  });
});
