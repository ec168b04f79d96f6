/**
 * An on-premises IdP whose HTTPS certificate a private CA signed, against the built bundle over
 * loopback TLS: without AUTHORIZER_CA_BUNDLE_FILE the decision is idp_unavailable and the fetch line
 * says why; with it the token is allowed; expired or wrong-host certificates are still refused and
 * named. No line carries certificate contents.
 */

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  daysFromNow,
  makePrivateCa,
  makeServerCertificate,
  type TestCertificate,
} from '../support/certificates.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { epoch, jwksOf, makeKey, signToken, type TestKey } from '../support/keys.ts';
import { type LoadedHandler, loadHandler } from '../support/load-handler.ts';

const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const ROLE = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';

let key: TestKey;
let ca: TestCertificate;
let dir: string;
let bundleFile: string;
let idp: IdpServer | undefined;

beforeAll(async () => {
  key = await makeKey('RS256', 'adfs-signing');
  ca = makePrivateCa('Hospital Root CA');
  dir = await mkdtemp(join(tmpdir(), 'ahi-idp-tls-'));
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

/** An IdP on https://127.0.0.1:<port> serving discovery and JWKS with this certificate. */
async function onPremisesIdp(certificate: TestCertificate): Promise<IdpServer> {
  idp = await startIdpServer({ tls: { cert: certificate.cert, key: certificate.key } });
  idp.on('/.well-known/openid-configuration', {
    kind: 'json',
    body: { issuer: idp.url, jwks_uri: `${idp.url}/jwks` },
  });
  idp.on('/jwks', { kind: 'json', body: jwksOf(key) });
  return idp;
}

function environment(issuer: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AUTHORIZER_CONFIG: JSON.stringify({
      issuers: [{ issuer, audience: 'api' }],
      rules: [{ name: 'readers', claims: { scope: 'dicom.read' }, roleArn: ROLE }],
    }),
    ...extra,
  };
}

const token = (issuer: string) =>
  signToken(key, {
    iss: issuer,
    sub: 'radiologist',
    aud: 'api',
    scope: 'dicom.read',
    jti: randomUUID(),
    iat: epoch(Date.now(), -5),
    exp: epoch(Date.now(), 300),
  });

async function invoke(h: LoadedHandler, issuer: string) {
  return h.invoke({ datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: await token(issuer) });
}

const records = (h: LoadedHandler) => h.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
const fetchLines = (h: LoadedHandler) =>
  records(h).filter((record) => record['message'] === 'identity provider fetch');

/** Nothing of a certificate (PEM armour or any 40-character run of its base64) reaches a line. */
function expectNoCertificateContent(h: LoadedHandler, ...certificates: TestCertificate[]) {
  const bodies = certificates.map((c) => c.cert.replace(/-----[A-Z ]+-----|\s/g, ''));
  for (const line of h.lines) {
    expect(line).not.toContain('BEGIN CERTIFICATE');
    for (const body of bodies) {
      for (let at = 0; at + 40 <= body.length; at += 40) expect(line).not.toContain(body.slice(at, at + 40));
    }
  }
}

describe('the built handler against an IdP whose certificate a private CA signed', () => {
  it('denies with idp_unavailable and logs the TLS cause without the CA bundle', async () => {
    // Arrange
    const server = await onPremisesIdp(makeServerCertificate(ca));
    const h = await loadHandler(environment(server.url));

    // Act
    const result = await invoke(h, server.url);

    // Assert
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(h.lastReason()).toBe('idp_unavailable');
    expect(fetchLines(h)).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        kind: 'discovery',
        outcome: 'tls',
        tlsCause: 'unknown_ca',
        tlsCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      }),
    );
    expect(server.hits('/jwks')).toBe(0);
    expectNoCertificateContent(h, ca);
  });

  it('allows with AUTHORIZER_CA_BUNDLE_FILE, and says at init which CAs it trusts', async () => {
    // Arrange
    const server = await onPremisesIdp(makeServerCertificate(ca));
    const h = await loadHandler(environment(server.url, { AUTHORIZER_CA_BUNDLE_FILE: bundleFile }));

    // Act
    const result = await invoke(h, server.url);

    // Assert
    expect(result).toEqual({ isTokenValid: true, roleArn: ROLE });
    expect(fetchLines(h).map((line) => [line['kind'], line['outcome']])).toEqual([
      ['discovery', 'ok'],
      ['jwks', 'ok'],
    ]);
    expect(records(h)).toContainEqual(
      expect.objectContaining({
        level: 'INFO',
        message: 'identity provider fetches also trust the CA bundle',
        setting: 'AUTHORIZER_CA_BUNDLE_FILE',
        certificates: 1,
        subjects: ['CN=Hospital Root CA'],
      }),
    );
    expectNoCertificateContent(h, ca);
  });

  it.each([
    [
      'expired',
      () => makeServerCertificate(ca, { notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) }),
      'CERT_HAS_EXPIRED',
    ],
    [
      'host_mismatch',
      () => makeServerCertificate(ca, { commonName: 'adfs.other.test', altNames: ['adfs.other.test'] }),
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ],
  ])('denies a %s certificate even with the bundle, naming the cause', async (cause, leaf, code) => {
    // Arrange
    const certificate = leaf();
    const server = await onPremisesIdp(certificate);
    const h = await loadHandler(environment(server.url, { AUTHORIZER_CA_BUNDLE_FILE: bundleFile }));

    // Act
    const result = await invoke(h, server.url);

    // Assert
    expect(result.isTokenValid).toBe(false);
    expect(h.lastReason()).toBe('idp_unavailable');
    expect(fetchLines(h)).toContainEqual(
      expect.objectContaining({ outcome: 'tls', tlsCause: cause, tlsCode: code }),
    );
    expectNoCertificateContent(h, ca, certificate);
  });

  it('logs an ERROR naming the setting when the bundle is unusable, and trusts the default CAs only', async () => {
    // Arrange: a hand-edited function whose bundle file is missing.
    const server = await onPremisesIdp(makeServerCertificate(ca));
    const h = await loadHandler(
      environment(server.url, { AUTHORIZER_CA_BUNDLE_FILE: join(dir, 'missing.pem') }),
    );

    // Act
    const result = await invoke(h, server.url);

    // Assert
    expect(result.isTokenValid).toBe(false);
    expect(records(h)).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'CA bundle unusable: identity provider fetches trust the default CAs only',
        setting: 'AUTHORIZER_CA_BUNDLE_FILE',
        detail: 'cannot be read (ENOENT)',
      }),
    );
    expect(fetchLines(h)).toContainEqual(expect.objectContaining({ outcome: 'tls', tlsCause: 'unknown_ca' }));
  });
});
