/**
 * The built bundle against a real OpenID Provider (oidc-provider on loopback, RFC 9068 `at+jwt`
 * access tokens by client credentials, keys found through OIDC discovery), and with its
 * configuration in SSM Parameter Store read by the real AWS SDK client from a loopback endpoint —
 * which also proves the lazily loaded SSM chunk of the bundle works.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHandler } from '../support/load-handler.ts';
import { type OidcProviderFixture, startOidcProvider } from '../support/oidc-provider.ts';
import { type SsmServer, startSsmServer } from '../support/ssm-server.ts';

const RO = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';
const RW = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadWrite';
const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

let rs: OidcProviderFixture;
let es: OidcProviderFixture;
let ssm: SsmServer | undefined;

function configFor(...providers: OidcProviderFixture[]) {
  return {
    issuers: providers.map((p) => ({
      issuer: p.issuer,
      audience: p.audience,
      tokenType: 'at+jwt',
      algorithms: [p.signingAlg],
    })),
    rules: [
      { name: 'dicom-writers', claims: { scope: 'dicom.write' }, roleArn: RW },
      { name: 'dicom-readers', claims: { scope: 'dicom.read' }, operations: ['read'], roleArn: RO },
    ],
  };
}

beforeAll(async () => {
  [rs, es] = await Promise.all([
    startOidcProvider({ signingAlg: 'RS256' }),
    startOidcProvider({ signingAlg: 'ES256' }),
  ]);
});

afterAll(async () => {
  await Promise.all([rs?.close(), es?.close(), ssm?.close()]);
});

describe('the built handler with a running OpenID Provider', () => {
  it('maps client-credentials tokens to roles by scope for RS256 and ES256 issuers found by discovery', async () => {
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(configFor(rs, es)) });
    for (const provider of [rs, es]) {
      const reader = await provider.getToken('dicom-reader');
      const writer = await provider.getToken('dicom-writer');

      expect(
        await h.invoke({ datastoreId: DS, operation: 'SearchDICOMStudies', bearerToken: reader }),
      ).toEqual({
        isTokenValid: true,
        roleArn: RO,
      });
      expect(await h.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: reader })).toEqual({
        isTokenValid: true,
        roleArn: '',
      });
      expect(h.lastReason()).toBe('operation_not_permitted');
      expect(await h.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: writer })).toEqual({
        isTokenValid: true,
        roleArn: RW,
      });
      expect(h.decisions().at(-1)).toMatchObject({
        rule: 'dicom-writers',
        clientId: 'dicom-writer',
        iss: provider.issuer,
      });
    }
  });

  it('denies with alg_not_allowed a token signed by another provider that claims this issuer', async () => {
    // Only the RS256 provider is configured; the ES256 provider's token claims the RS256 issuer.
    const h = await loadHandler({ AUTHORIZER_CONFIG: JSON.stringify(configFor(rs)) });
    const foreign = await es.getToken('dicom-writer');
    const [header, , signature] = foreign.split('.');
    const payload = JSON.parse(Buffer.from(foreign.split('.')[1]!, 'base64url').toString('utf8')) as object;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...payload, iss: rs.issuer })).toString('base64url')}.${signature}`;
    const result = await h.invoke({ datastoreId: DS, operation: 'StoreDICOM', bearerToken: forged });
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(h.lastReason()).toBe('alg_not_allowed');
  });
});

describe('the built handler with its configuration in SSM Parameter Store', () => {
  // The SDK resolves region, credentials and endpoint from the environment when it first sends,
  // after the handler module loaded; Lambda's environment is constant, so keep these set here.
  const awsEnv = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  };
  beforeAll(() => {
    Object.assign(process.env, awsEnv);
  });
  afterAll(() => {
    for (const name of [...Object.keys(awsEnv), 'AWS_ENDPOINT_URL_SSM']) delete process.env[name];
  });

  it('loads the lazily bundled SSM client, reads the parameter and records its version', async () => {
    ssm = await startSsmServer({ kind: 'parameter', value: JSON.stringify(configFor(rs)), version: 7 });
    process.env['AWS_ENDPOINT_URL_SSM'] = ssm.endpoint;
    // Timing is not the point here (the hanging case below is): give init the provisioned-concurrency
    // budget so a loaded CI machine cannot turn the first, cold SDK call into config_unavailable.
    // (An on-demand init may wait at most the budget less 50 ms, so that takes a provisioned init.)
    const h = await loadHandler({
      AUTHORIZER_CONFIG_PARAMETER: '/healthimaging/authorizer/config',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency',
      AUTHORIZER_PROVISIONED_INIT_BUDGET_MS: '5000',
    });
    const token = await rs.getToken('dicom-reader');
    const result = await h.invoke({ datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: token });
    // The reason alongside, so a failure says why (config_unavailable on a starved machine).
    expect({ result, reason: h.lastReason() }).toEqual({
      result: { isTokenValid: true, roleArn: RO },
      reason: 'allowed',
    });
    expect(h.decisions().at(-1)).toMatchObject({ configVersion: 'ssm:7' });
    expect(ssm.requests[0]).toMatchObject({
      target: 'AmazonSSM.GetParameter',
      body: { Name: '/healthimaging/authorizer/config', WithDecryption: true },
    });
  });

  it('denies with config_unavailable inside the budget when SSM hangs at cold start', async () => {
    const hanging = await startSsmServer({ kind: 'hang' });
    try {
      const started = performance.now();
      process.env['AWS_ENDPOINT_URL_SSM'] = hanging.endpoint;
      const h = await loadHandler({ AUTHORIZER_CONFIG_PARAMETER: '/healthimaging/authorizer/config' });
      const token = await rs.getToken('dicom-reader');
      const result = await h.invoke({ datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: token });
      expect(result).toEqual({ isTokenValid: false, roleArn: '' });
      expect(h.lastReason()).toBe('config_unavailable');
      expect(performance.now() - started).toBeLessThan(3000);
    } finally {
      await hanging.close();
    }
  });
});
