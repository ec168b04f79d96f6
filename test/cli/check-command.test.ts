/**
 * `ahi-authorizer check` against loopback identity providers (and, for Entra-shaped issuers, an
 * injected fetch): usable keys with timings, issuer mismatches with their hints, unreachable
 * endpoints, unusable key sets, rules that can never match, roles outside the allowlist, the exit
 * codes and the --json shape. No internet.
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/tools/cli/check/check-config.ts';
import { runCli } from '../../src/tools/cli/run-cli.ts';
import type { AuthorizerConfigInput } from '../../src/core/config/schema.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { jwksOf, makeKey, type TestKey } from '../support/keys.ts';
import { fakeIo } from '../support/fake-io.ts';
import { ENTRA_V1, ENTRA_V2, RO, RW, TENANT } from '../support/fixtures/seed-tokens.ts';
import { match } from '../support/matchers.ts';

let rsa: TestKey;
let ec: TestKey;
let idp: IdpServer;
let dir: string;

beforeAll(async () => {
  rsa = await makeKey('RS256', 'rsa-1');
  ec = await makeKey('ES256', 'ec-1');
  dir = await mkdtemp(join(tmpdir(), 'ahi-check-test-'));
});

afterEach(async () => {
  await idp?.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(config: AuthorizerConfigInput | string): Promise<string> {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
}

async function check(config: AuthorizerConfigInput | string, args: string[] = []) {
  const io = fakeIo();
  const code = await runCli(['check', '--config', await writeConfig(config), ...args], io);
  return { code, out: io.out, err: io.err };
}

async function discoveryIdp(options: { publishedIssuer?: (url: string) => string; keys?: TestKey[] } = {}) {
  idp = await startIdpServer();
  idp.on('/.well-known/openid-configuration', {
    kind: 'json',
    body: { issuer: options.publishedIssuer?.(idp.url) ?? idp.url, jwks_uri: `${idp.url}/jwks` },
  });
  idp.on('/jwks', { kind: 'json', body: jwksOf(...(options.keys ?? [rsa, ec])) });
  return idp;
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const rules = [{ name: 'readers', claims: { scope: 'dicom.read' }, operations: ['read'], roleArn: RO }];

describe('check on reachable identity providers', () => {
  it('reports discovery and JWKS with timings, usable keys and their algorithms, and exits 0', async () => {
    await discoveryIdp();

    const { code, out } = await check({
      issuers: [{ issuer: idp.url, audience: 'api://x', algorithms: ['RS256', 'ES256'] }],
      rules,
    });

    expect(code).toBe(0);
    expect(out).toMatch(
      /\[ok\] discovery +http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration in \d+ ms; issuer matches/,
    );
    expect(out).toMatch(/\[ok\] jwks +http:\/\/127\.0\.0\.1:\d+\/jwks in \d+ ms/);
    expect(out).toContain('2 usable: "rsa-1" RSA RS256, "ec-1" EC P-256 ES256');
    expect(out).toContain('RS256: 1 key, ES256: 1 key');
    expect(out).toContain('0 problems, 0 warnings');
  });

  it('reports an issuer mismatch with the published issuer and a hint, and exits 1', async () => {
    await discoveryIdp({ publishedIssuer: (url) => `${url}/` });

    const { code, out } = await check({ issuers: [{ issuer: idp.url, audience: 'api://x' }], rules });

    expect(code).toBe(1);
    expect(out).toContain(
      `issuer mismatch: the discovery document publishes "${idp.url}/", the config says "${idp.url}"`,
    );
    expect(out).toContain('differs from the configured');
    expect(out).toContain('only by a trailing "/"');
  });

  it('reports that no published key can verify the configured algorithms', async () => {
    await discoveryIdp({ keys: [ec] });

    const { code, out } = await check({ issuers: [{ issuer: idp.url, audience: 'api://x' }], rules });

    expect(code).toBe(1);
    expect(out).toContain('no published key can verify ["RS256"] (keys: EC P-256 ES256)');
  });

  it('reports a JWKS whose keys are all unusable', async () => {
    await discoveryIdp({ keys: [await makeKey('RS256', 'short', 1024)] });

    const { code, out } = await check({ issuers: [{ issuer: idp.url, audience: 'api://x' }], rules });

    expect(code).toBe(1);
    expect(out).toContain('JWKS has no usable signing key (1 published, 1 dropped)');
  });
});

describe('check on unreachable endpoints', () => {
  it('reports an unreachable pinned JWKS with the network error and exits 1', async () => {
    const port = await closedPort();
    const jwksUri = `http://127.0.0.1:${port}/jwks`;

    const { code, out } = await check({
      issuers: [{ issuer: 'https://idp.example.org', jwksUri, audience: 'api://x' }],
      rules,
    });

    expect(code).toBe(1);
    expect(out).toMatch(
      new RegExp(`\\[XX\\] jwks +${jwksUri} unreachable: request failed \\(ECONNREFUSED\\) after \\d+ ms`),
    );
    expect(out).toContain('hint: nothing answers there');
    expect(out).toContain('1 problem, 0 warnings');
  });

  it('reports a missing discovery document (404) with the likely cause', async () => {
    idp = await startIdpServer();

    const { code, out } = await check({
      issuers: [{ issuer: `${idp.url}/realms/x`, audience: 'api://x' }],
      rules,
    });

    expect(code).toBe(1);
    expect(out).toContain('unreachable: HTTP 404');
    expect(out).toContain('no OIDC discovery document here');
  });
});

describe('check on Entra ID issuers', () => {
  it('hints at the v1 / v2 issuer mismatch, and reports a tokenType no Entra token carries', async () => {
    // The v2 discovery document of a tenant whose API still issues v1 tokens names the v1 issuer
    // when the v1 endpoint is configured: here, the configured v2 issuer meets a v1 document.
    const fetchImpl: typeof fetch = (input) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const body = url.endsWith('/openid-configuration')
        ? { issuer: ENTRA_V1, jwks_uri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys` }
        : jwksOf(rsa);
      return Promise.resolve(
        new Response(JSON.stringify(body), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        }),
      );
    };
    const text = JSON.stringify({
      issuers: [{ issuer: ENTRA_V2, audience: 'api://ahi-dicomweb', tokenType: 'at+jwt' }],
      rules,
    });

    const report = await checkConfig('entra.json', text, { fetch: fetchImpl });

    const findings = report.issuers[0]?.findings ?? [];
    const mismatch = findings.find((finding) => finding.subject === 'discovery');
    expect(mismatch?.severity).toBe('problem');
    expect(mismatch?.hints.join(' ')).toContain('is the Entra ID v1 issuer');
    expect(mismatch?.hints.join(' ')).toContain('requestedAccessTokenVersion');
    // Entra ID access tokens carry typ "JWT": every one would be denied, as on a Cognito issuer.
    expect(findings.find((finding) => finding.subject === 'tokenType')).toMatchObject({
      severity: 'problem',
      path: '$.issuers[0].tokenType',
    });
    expect(report.problems).toBe(2);
  });
});

describe("check on the sandbox's own configuration", () => {
  it("says the placeholder issuer is the sandbox's, replaced by its embedded IdP at start", async () => {
    // Arrange: sandbox/config.json as it is; nothing listens at the placeholder.
    const text = await readFile(resolve(import.meta.dirname, '../../sandbox/config.json'), 'utf8');
    const refused: typeof fetch = () =>
      Promise.reject(
        new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:80'), { code: 'ECONNREFUSED' }),
        }),
      );

    // Act
    const report = await checkConfig('sandbox/config.json', text, { fetch: refused });

    // Assert
    const discovery = report.issuers[0]?.findings.find((finding) => finding.subject === 'discovery');
    expect(report.issuers[0]?.issuer).toBe('http://127.0.0.1/embedded-idp');
    expect(discovery?.severity).toBe('problem');
    expect(discovery?.hints).toEqual([
      "http://127.0.0.1/embedded-idp is the sandbox's placeholder, not an IdP: the sandbox replaces it with its embedded IdP at start, so run `npm start` to try this config; in your own config, name your IdP's issuer",
    ]);
  });
});

describe('check on Amazon Cognito issuers', () => {
  const pool = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123';
  const fetchImpl: typeof fetch = () =>
    Promise.resolve(
      new Response(JSON.stringify(jwksOf(rsa)), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      }),
    );

  it('reports an audience or a tokenType that no Cognito access token can satisfy', async () => {
    const text = JSON.stringify({
      issuers: [
        {
          issuer: pool,
          jwksUri: `${pool}/.well-known/jwks.json`,
          audience: 'my-app-client',
          tokenType: 'at+jwt',
        },
      ],
      rules,
    });

    const report = await checkConfig('cognito.json', text, { fetch: fetchImpl });

    const findings = report.issuers[0]?.findings ?? [];
    expect(findings.find((finding) => finding.subject === 'audience')?.hints.join(' ')).toContain(
      'clientIds',
    );
    expect(findings.find((finding) => finding.subject === 'tokenType')?.severity).toBe('problem');
    expect(report.problems).toBe(2);
  });

  it('reports nothing for a Cognito issuer bound by clientIds', async () => {
    const text = JSON.stringify({
      issuers: [{ issuer: pool, jwksUri: `${pool}/.well-known/jwks.json`, clientIds: ['my-app-client'] }],
      rules,
    });

    const report = await checkConfig('cognito.json', text, { fetch: fetchImpl });

    expect(report.problems).toBe(0);
  });
});

describe('check on an issuer that accepts ID tokens', () => {
  const pool = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123';
  const fetchImpl: typeof fetch = () =>
    Promise.resolve(
      new Response(JSON.stringify(jwksOf(rsa)), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      }),
    );

  it('warns that acceptIdTokens lets ID tokens through as access tokens', async () => {
    const text = JSON.stringify({
      issuers: [
        {
          issuer: pool,
          jwksUri: `${pool}/.well-known/jwks.json`,
          clientIds: ['my-app-client'],
          acceptIdTokens: true,
        },
      ],
      rules,
    });

    const report = await checkConfig('cognito.json', text, { fetch: fetchImpl });

    const finding = report.issuers[0]?.findings.find((f) => f.subject === 'acceptIdTokens');
    expect(finding?.severity).toBe('warning');
    expect(finding?.hints.join(' ')).toContain('no access tokens for your API');
    expect(report.problems).toBe(0);
  });

  it('does not report a Cognito audience as a problem when it binds the accepted ID tokens', async () => {
    const text = JSON.stringify({
      issuers: [
        {
          issuer: pool,
          jwksUri: `${pool}/.well-known/jwks.json`,
          audience: 'my-app-client',
          acceptIdTokens: true,
        },
      ],
      rules,
    });

    const report = await checkConfig('cognito.json', text, { fetch: fetchImpl });

    expect(report.issuers[0]?.findings.find((f) => f.subject === 'audience')).toBeUndefined();
    expect(report.problems).toBe(0);
  });
});

describe('check on the configuration and its rules', () => {
  it('exits 2 with the JSON path of each problem for an invalid config', async () => {
    const { code, out } = await check(
      '{"issuers":[{"issuer":"https://idp.example.org","audiance":"x"}],"rules":[]}',
    );

    expect(code).toBe(2);
    expect(out).toContain('$.issuers[0].audiance: unknown key (check for a typo)');
    expect(out).toContain('$.rules: ');
  });

  it('exits 2 naming every repeated key by its JSON path, in text and in --json', async () => {
    // Arrange: with the repeats dropped this config is valid (its endpoint is a closed loopback port).
    const issuer = `http://127.0.0.1:${await closedPort()}`;
    const text =
      `{"issuers":[{"issuer":"${issuer}","jwksUri":"${issuer}/jwks","audience":"a","audience":"b"}],` +
      `"rules":[{"name":"r","roleArn":"${RO}","claims":{"scope":"x"},"operations":["read"],"operations":["write"]}]}`;
    const issues = [
      { path: '$.issuers[0].audience', message: 'duplicate key "audience" (JSON keeps only the last one)' },
      { path: '$.rules[0].operations', message: 'duplicate key "operations" (JSON keeps only the last one)' },
    ];

    // Act
    const plain = await check(text);
    const json = await check(text, ['--json']);

    // Assert
    expect(plain.code).toBe(2);
    for (const issue of issues) expect(plain.out).toContain(`${issue.path}: ${issue.message}`);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.out)).toMatchObject({ config: { ok: false, issues }, issuers: [], problems: 2 });
  });

  it('reports rules that can never match, shadowed rules and roles outside the allowlist', async () => {
    idp = await startIdpServer();
    idp.on('/jwks', { kind: 'json', body: jwksOf(rsa) });

    const { code, out } = await check(
      {
        issuers: [{ issuer: idp.url, jwksUri: `${idp.url}/jwks`, audience: 'api://x', clientIds: ['app-1'] }],
        rules: [
          { name: 'typo', claims: { scope: 'dicom.read' }, operations: ['GetDICOMInstances'], roleArn: RO },
          { name: 'two-scopes', claims: { scope: 'dicom.read dicom.write' }, roleArn: RW },
          { name: 'all-readers', claims: { scope: 'dicom.read' }, roleArn: RO },
          {
            name: 'some-readers',
            claims: { scope: 'dicom.read', azp: 'x' },
            operations: ['read'],
            roleArn: RO,
          },
          { name: 'by-client-id', claims: { oid: 'app-1' }, roleArn: 'arn:aws:iam::111122223333:role/Other' },
        ],
      },
      ['--allowed-roles', `${RO},${RW}`],
    );

    expect(code).toBe(1);
    expect(out).toContain('typo');
    expect(out).toContain('can never match a HealthImaging operation: operations ["GetDICOMInstances"]');
    expect(out).toContain('condition scope: a value with a space can never match');
    expect(out).toContain(
      'never decides: the earlier rule all-readers matches every token this rule matches',
    );
    expect(out).toContain('condition oid lists a value that is also in clientIds');
    expect(out).toContain('roleArn arn:aws:iam::111122223333:role/Other is outside the allowed roles');
    expect(out).toContain('3 problems, 2 warnings');
  });

  it('gives the same report as JSON', async () => {
    await discoveryIdp();

    const { code, out } = await check({ issuers: [{ issuer: idp.url, audience: 'api://x' }], rules }, [
      '--json',
    ]);
    const report = JSON.parse(out) as Record<string, unknown>;

    expect(code).toBe(0);
    expect(report).toMatchObject({
      config: { ok: true, issuers: 1, rules: 1, issues: [] },
      problems: 0,
      warnings: 0,
      issuers: [
        {
          issuer: idp.url,
          endpoints: [
            { kind: 'discovery', ok: true, ms: match.any(Number) },
            { kind: 'jwks', ok: true, ms: match.any(Number) },
          ],
          keys: [
            { kid: 'rsa-1', kty: 'RSA', alg: 'RS256' },
            { kid: 'ec-1', kty: 'EC', alg: 'ES256', crv: 'P-256' },
          ],
        },
      ],
    });
  });
});
