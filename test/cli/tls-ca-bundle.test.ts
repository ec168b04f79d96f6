/**
 * `check` and `explain` against an on-premises IdP on loopback HTTPS signed by a private test CA:
 * without the CA bundle they name the TLS cause and hint at `--ca-bundle`; with it (or
 * AUTHORIZER_CA_BUNDLE_FILE) they succeed; expired or wrong-host certificates are still named; a bad
 * bundle is a usage error.
 */

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/tools/cli/parse-cli-args.ts';
import { runCli } from '../../src/tools/cli/run-cli.ts';
import { usage } from '../../src/tools/cli/usage.ts';
import {
  daysFromNow,
  makeCertificate,
  makePrivateCa,
  makeServerCertificate,
  type TestCertificate,
} from '../support/certificates.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { epoch, jwksOf, makeKey, signToken, type TestKey } from '../support/keys.ts';
import { fakeIo } from '../support/fake-io.ts';

const ROLE = 'arn:aws:iam::111122223333:role/healthimaging/HealthImagingAuthorizer-AhiReadOnly';

let key: TestKey;
let ca: TestCertificate;
let dir: string;
let bundleFile: string;
let idp: IdpServer | undefined;

beforeAll(async () => {
  key = await makeKey('RS256', 'keycloak-rs256');
  ca = makePrivateCa('Hospital Root CA');
  dir = await mkdtemp(join(tmpdir(), 'ahi-cli-tls-'));
  bundleFile = join(dir, 'hospital-ca.pem');
  await writeFile(bundleFile, ca.cert);
});

afterEach(async () => {
  await idp?.close();
  idp = undefined;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function onPremisesIdp(certificate: TestCertificate = makeServerCertificate(ca)): Promise<IdpServer> {
  idp = await startIdpServer({ tls: { cert: certificate.cert, key: certificate.key } });
  idp.on('/.well-known/openid-configuration', {
    kind: 'json',
    body: { issuer: idp.url, jwks_uri: `${idp.url}/jwks` },
  });
  idp.on('/jwks', { kind: 'json', body: jwksOf(key) });
  return idp;
}

async function writeFileIn(name: string, text: string): Promise<string> {
  const path = join(dir, `${randomUUID()}-${name}`);
  await writeFile(path, text);
  return path;
}

async function configFor(issuer: string): Promise<string> {
  return writeFileIn(
    'config.json',
    JSON.stringify({
      issuers: [{ issuer, audience: 'api://dicomweb' }],
      rules: [{ name: 'readers', claims: { scope: 'dicom.read' }, operations: ['read'], roleArn: ROLE }],
    }),
  );
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const io = fakeIo({ env });
  const code = await runCli(args, io);
  return { code, out: io.out, err: io.err };
}

describe('--ca-bundle', () => {
  it.each(['check', 'explain'])('is an option of %s, documented in its help', (command) => {
    expect(parseCliArgs([command, '--config', 'c.json', '--ca-bundle', 'ca.pem'])).toMatchObject({
      ok: true,
      value: { command, caBundle: 'ca.pem' },
    });
    expect(usage(command)).toMatch(/--ca-bundle FILE +PEM CA certificates trusted for discovery and JWKS/);
  });
});

describe('check against an IdP signed by a private CA', () => {
  it('reports the unknown CA with the --ca-bundle hint without the bundle, and exits 1', async () => {
    // Arrange
    const server = await onPremisesIdp();

    // Act
    const { code, out } = await cli(['check', '--config', await configFor(server.url)]);

    // Assert
    expect(code).toBe(1);
    expect(out).toMatch(
      /\[XX\] discovery +https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration: TLS certificate not issued by a trusted CA \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\) after \d+ ms/,
    );
    expect(out).toContain('hint: unknown CA: the certificate chains to no CA this machine trusts');
    expect(out).toContain('pass its PEM with --ca-bundle FILE (deployments: the caBundle setting)');
    expect(out).not.toContain('unreachable');
    expect(out).not.toContain('nothing answers');
  });

  it('succeeds with --ca-bundle and shows the bundle it trusted', async () => {
    // Arrange
    const server = await onPremisesIdp();

    // Act
    const { code, out } = await cli([
      'check',
      '--config',
      await configFor(server.url),
      '--ca-bundle',
      bundleFile,
    ]);

    // Assert
    expect(code).toBe(0);
    expect(out).toContain(`ca bundle     ${bundleFile} (1 certificate: CN=Hospital Root CA)`);
    expect(out).toMatch(
      /\[ok\] discovery +https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration in/,
    );
    expect(out).toMatch(/\[ok\] jwks +https:\/\/127\.0\.0\.1:\d+\/jwks in/);
    expect(out).toContain('1 usable: "keycloak-rs256" RSA RS256');
    expect(out).toContain('0 problems, 0 warnings');
  });

  it('takes the bundle from AUTHORIZER_CA_BUNDLE_FILE, as the function does', async () => {
    const server = await onPremisesIdp();
    const { code } = await cli(['check', '--config', await configFor(server.url)], {
      AUTHORIZER_CA_BUNDLE_FILE: bundleFile,
    });
    expect(code).toBe(0);
  });

  it.each([
    [
      'an expired certificate',
      () => makeServerCertificate(ca, { notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) }),
      'TLS certificate expired (CERT_HAS_EXPIRED)',
      'hint: the certificate has expired',
    ],
    [
      'a certificate for another host name',
      () => makeServerCertificate(ca, { commonName: 'adfs.other.test', altNames: ['adfs.other.test'] }),
      'TLS certificate issued for another host name (ERR_TLS_CERT_ALTNAME_INVALID; presented CN=adfs.other.test)',
      'hint: the certificate is issued for another host name',
    ],
  ])('reports %s as such even with the bundle', async (_what, leaf, detail, hint) => {
    // Arrange
    const server = await onPremisesIdp(leaf());

    // Act
    const { code, out } = await cli([
      'check',
      '--config',
      await configFor(server.url),
      '--ca-bundle',
      bundleFile,
    ]);

    // Assert
    expect(code).toBe(1);
    expect(out).toContain(detail);
    expect(out).toContain(hint);
  });

  it('carries the TLS cause and code in --json', async () => {
    // Arrange
    const server = await onPremisesIdp();

    // Act
    const { out } = await cli(['check', '--config', await configFor(server.url), '--json']);

    // Assert
    const report = JSON.parse(out) as { issuers: { endpoints: Record<string, unknown>[] }[] };
    expect(report.issuers[0]!.endpoints[0]).toMatchObject({
      kind: 'discovery',
      ok: false,
      tlsCause: 'unknown_ca',
      tlsCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('warns about a CA in the bundle that has expired', async () => {
    // Arrange
    const old = makeCertificate({
      commonName: 'Retired Root CA',
      ca: true,
      notBefore: daysFromNow(-800),
      notAfter: daysFromNow(-3),
    });
    const server = await onPremisesIdp();
    const bundle = await writeFileIn('bundle.pem', `${ca.cert}${old.cert}`);

    // Act
    const { code, out } = await cli([
      'check',
      '--config',
      await configFor(server.url),
      '--ca-bundle',
      bundle,
    ]);

    // Assert
    expect(code).toBe(0);
    expect(out).toMatch(
      /\[!!\] ca bundle +CN=Retired Root CA is expired \(valid \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d\)/,
    );
    expect(out).toContain('0 problems, 1 warning');
  });

  it.each([
    ['missing.pem', undefined, 'cannot be read (ENOENT)'],
    ['empty.pem', '', 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
    ['with-key.pem', 'key', 'PEM block 2 is a private key: a CA bundle holds certificates only'],
  ])('refuses the bundle %s with exit 2, naming the option', async (name, content, problem) => {
    // Arrange
    const path =
      content === undefined
        ? join(dir, name)
        : await writeFileIn(name, content === 'key' ? `${ca.cert}${ca.key}` : content);

    // Act
    const { code, out, err } = await cli([
      'check',
      '--config',
      await configFor('https://idp.test'),
      '--ca-bundle',
      path,
    ]);

    // Assert
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain(`ahi-authorizer: --ca-bundle ${path}: ${problem}`);
    expect(err).not.toContain('PRIVATE KEY-----');
  });
});

describe('explain against an IdP signed by a private CA', () => {
  const tokenFor = (issuer: string) =>
    signToken(key, {
      iss: issuer,
      sub: 'radiologist',
      aud: 'api://dicomweb',
      scope: 'dicom.read',
      iat: epoch(Date.now(), -5),
      exp: epoch(Date.now(), 600),
    });

  it('denies with idp_unavailable and names the unknown CA without the bundle', async () => {
    // Arrange
    const server = await onPremisesIdp();
    const config = await configFor(server.url);

    // Act
    const { code, out } = await cli([
      'explain',
      '--config',
      config,
      '--operation',
      'GetDICOMInstance',
      '--token',
      await tokenFor(server.url),
    ]);

    // Assert
    expect(code).toBe(1);
    expect(out).toContain('idp_unavailable');
    expect(out).toContain(
      'discovery: TLS certificate not issued by a trusted CA (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    );
    expect(out).toMatch(/fetched: discovery tls unknown_ca \d/);
    expect(out).toContain(
      'why       idp_unavailable: unknown CA: the certificate chains to no CA this machine trusts',
    );
    expect(out).toContain(`Then run \`npm run -s ahi-authorizer -- check --config ${config}\``);
  });

  it('allows with --ca-bundle', async () => {
    // Arrange
    const server = await onPremisesIdp();

    // Act
    const { code, out } = await cli([
      'explain',
      '--config',
      await configFor(server.url),
      '--operation',
      'GetDICOMInstance',
      '--ca-bundle',
      bundleFile,
      '--token',
      await tokenFor(server.url),
    ]);

    // Assert
    expect(code).toBe(0);
    expect(out).toContain('ALLOW');
  });

  it('names a certificate for another host name, with the bundle', async () => {
    // Arrange
    const server = await onPremisesIdp(
      makeServerCertificate(ca, { commonName: 'adfs.other.test', altNames: ['adfs.other.test'] }),
    );

    // Act
    const { code, out } = await cli([
      'explain',
      '--config',
      await configFor(server.url),
      '--operation',
      'GetDICOMInstance',
      '--ca-bundle',
      bundleFile,
      '--token',
      await tokenFor(server.url),
    ]);

    // Assert
    expect(code).toBe(1);
    expect(out).toContain('presented CN=adfs.other.test');
    expect(out).toContain('idp_unavailable: the certificate is issued for another host name');
  });
});
