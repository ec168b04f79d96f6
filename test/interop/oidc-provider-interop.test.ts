/**
 * The built bundle against real OpenID Provider software (oidc-provider on loopback): RFC 9068 `at+jwt`
 * client-credentials tokens, discovery, RS256 and ES256, `tokenType` enforced, and key rotation by
 * restarting the provider with a new key: old and new published keys accepted, retired ones refused, no
 * refetch sooner than the kid cooldown.
 */

import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, type JWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHandler } from '../support/load-handler.ts';
import { type OidcProviderFixture, startOidcProvider } from '../support/oidc-provider.ts';

const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const RO = 'arn:aws:iam::111122223333:role/healthimaging/HealthImagingAuthorizer-AhiReadOnly';
const RW = 'arn:aws:iam::111122223333:role/healthimaging/HealthImagingAuthorizer-AhiReadWrite';

const running = new Set<OidcProviderFixture>();

afterAll(async () => {
  await Promise.all([...running].map((provider) => provider.close()));
});

async function start(options: Parameters<typeof startOidcProvider>[0]) {
  const provider = await startOidcProvider(options);
  running.add(provider);
  return provider;
}

async function stop(provider: OidcProviderFixture) {
  await provider.close();
  running.delete(provider);
}

const configFor = (provider: OidcProviderFixture, tokenType = 'at+jwt') => ({
  issuers: [
    { issuer: provider.issuer, audience: provider.audience, tokenType, algorithms: [provider.signingAlg] },
  ],
  rules: [
    { name: 'writers', claims: { scope: 'dicom.write' }, roleArn: RW },
    { name: 'readers', claims: { scope: 'dicom.read' }, operations: ['read'], roleArn: RO },
  ],
});

const ecKey = async (kid: string): Promise<JWK> => ({
  ...(await exportJWK(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)),
  kid,
  alg: 'ES256',
  use: 'sig',
});

describe.each(['RS256', 'ES256'] as const)('a running oidc-provider signing with %s', (alg) => {
  it('gets the expected roles and reason codes for its client-credentials tokens', async () => {
    const provider = await start({ signingAlg: alg });
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(configFor(provider)) });
    const reader = await provider.getToken('dicom-reader');
    const writer = await provider.getToken('dicom-writer');

    const readerRead = await h.invoke({
      datastoreId: DS,
      operation: 'GetDICOMInstance',
      bearerToken: reader,
    });
    const readerStore = await h.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: reader });
    const readerStoreReason = h.lastReason();
    const writerStore = await h.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: writer });

    expect(readerRead).toEqual({ isTokenValid: true, roleArn: RO });
    expect(readerStore).toEqual({ isTokenValid: true, roleArn: '' });
    expect(readerStoreReason).toBe('operation_not_permitted');
    expect(writerStore).toEqual({ isTokenValid: true, roleArn: RW });
    await stop(provider);
  });

  it('denies its at+jwt tokens with typ_invalid when another token type is required', async () => {
    const provider = await start({ signingAlg: alg });
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(configFor(provider, 'JWT')) });

    const result = await h.invoke({
      datastoreId: DS,
      operation: 'GetDICOMInstance',
      bearerToken: await provider.getToken('dicom-reader'),
    });

    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(h.lastReason()).toBe('typ_invalid');
    await stop(provider);
  });
});

describe('key rotation on a running oidc-provider', () => {
  it('accepts new-key tokens after a restart (and old-key ones while published); a warm handler waits out the refetch cooldown', async () => {
    const oldKey = await ecKey('rotation-old');
    const newKey = await ecKey('rotation-new');
    const before = await start({ keys: [oldKey] });
    const port = Number(new URL(before.issuer).port);
    const warm = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(configFor(before)) });
    const oldToken = await before.getToken('dicom-writer');
    expect(await warm.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: oldToken })).toEqual({
      isTokenValid: true,
      roleArn: RW,
    });
    await stop(before);

    const after = await start({ keys: [newKey, oldKey], port });
    const newToken = await after.getToken('dicom-writer');
    // docs/limits.md: an unknown kid refetches at most once per issuer per
    // cooldown (30 s); the warm handler fetched the JWKS moments ago, so it answers kid_unknown
    // without network I/O.
    const warmNew = await warm.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: newToken });
    const warmNewReason = warm.lastReason();
    const cold = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(configFor(after)) });
    const withNew = await cold.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: newToken });
    const withOld = await cold.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: oldToken });

    expect(warmNew).toEqual({ isTokenValid: false, roleArn: '' });
    expect(warmNewReason).toBe('kid_unknown');
    expect(withNew).toEqual({ isTokenValid: true, roleArn: RW });
    expect(withOld).toEqual({ isTokenValid: true, roleArn: RW });
    await stop(after);
  });

  it('denies a token signed with a retired key once the provider no longer publishes it (cold start)', async () => {
    const oldKey = await ecKey('retired-old');
    const newKey = await ecKey('retired-new');
    const before = await start({ keys: [oldKey] });
    const port = Number(new URL(before.issuer).port);
    const oldToken = await before.getToken('dicom-writer');
    await stop(before);
    const after = await start({ keys: [newKey], port });
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(configFor(after)) });

    const result = await h.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: oldToken });

    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(h.lastReason()).toBe('kid_unknown');
    await stop(after);
  });
});
