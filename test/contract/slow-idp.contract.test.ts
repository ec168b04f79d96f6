/**
 * A slow but healthy IdP at an on-demand cold start, against the built code: discovery or the JWKS
 * answers later than init waits. The fetch goes on past init, the first request joins it within its
 * budget, and nothing counts as an IdP failure (no backoff), so later requests are allowed.
 */

import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { epoch, jwksOf, makeKey, signToken, type TestKey } from '../support/keys.ts';
import { loadHandler } from '../support/load-handler.ts';

const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const ROLE = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';

let key: TestKey;
let idp: IdpServer | undefined;

beforeAll(async () => {
  key = await makeKey('RS256', 'slow');
});
afterEach(async () => {
  await idp?.close();
  idp = undefined;
});

async function slowIdp(stage: 'discovery' | 'jwks', delayMs: number) {
  const server = await startIdpServer();
  idp = server;
  const issuer = `${server.url}/realm`;
  server.on('/realm/.well-known/openid-configuration', {
    kind: 'json',
    body: { issuer, jwks_uri: `${server.url}/jwks` },
    ...(stage === 'discovery' && { delayMs }),
  });
  server.on('/jwks', { kind: 'json', body: jwksOf(key), ...(stage === 'jwks' && { delayMs }) });
  const config = {
    issuers: [{ issuer, audience: 'api' }],
    rules: [{ name: 'readers', claims: { scope: 'dicom.read' }, roleArn: ROLE }],
  };
  const event = async () => ({
    datastoreId: DS,
    operation: 'GetDICOMInstance',
    bearerToken: await signToken(key, {
      iss: issuer,
      sub: 'svc',
      aud: 'api',
      scope: 'dicom.read',
      jti: randomUUID(),
      iat: epoch(Date.now(), -5),
      exp: epoch(Date.now(), 300),
    }),
  });
  return { server, config, event };
}

const fetchOutcomes = (lines: readonly string[]) =>
  lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record['message'] === 'identity provider fetch')
    .map((record) => `${String(record['kind'])}:${String(record['outcome'])}`);

describe('an on-demand cold start with a slow but healthy IdP', () => {
  for (const stage of ['discovery', 'jwks'] as const) {
    for (const delayMs of [300, 500, 750]) {
      it(`allows once ${stage} answers after ${delayMs} ms, fetching once and starting no backoff`, async () => {
        // Arrange: the instance is built and init runs (and gives up waiting) before the request.
        const { server, config, event } = await slowIdp(stage, delayMs);
        const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(config) });

        // Act: the request that caused the cold start, then the next one.
        const first = await h.invoke(await event());
        const firstReason = h.lastReason();
        const second = await h.invoke(await event());

        // Assert
        if (delayMs < 750) expect(first).toEqual({ isTokenValid: true, roleArn: ROLE });
        else expect(['allowed', 'idp_unavailable']).toContain(firstReason);
        expect(second).toEqual({ isTokenValid: true, roleArn: ROLE });
        expect(server.hits('/jwks')).toBe(1);
        expect(server.hits('/realm/.well-known/openid-configuration')).toBe(1);
        expect(fetchOutcomes(h.lines)).toEqual(['discovery:ok', 'jwks:ok']);
      });
    }
  }
});
