/**
 * The CA bundle parser shared by synth, the Lambda and the CLI: one or more PEM certificates, text
 * around them ignored, anything else refused by its position (never echoed); a private key in the
 * file is refused outright. Also the TLS error-code table.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certificatesOutsideValidity,
  MAX_CA_BUNDLE_BYTES,
  parseCaBundle,
  readCaBundleFile,
} from '../../src/core/keys/ca-bundle.ts';
import { tlsFailureOf } from '../../src/core/keys/tls-failure.ts';
import {
  daysFromNow,
  makeCertificate,
  makePrivateCa,
  type TestCertificate,
} from '../support/certificates.ts';

let root: TestCertificate;
let issuing: TestCertificate;
let dir: string;

beforeAll(async () => {
  root = makePrivateCa('Hospital Root CA');
  issuing = makeCertificate({ commonName: 'Hospital Issuing CA', ca: true, issuer: root });
  dir = await mkdtemp(join(tmpdir(), 'ahi-ca-bundle-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseCaBundle', () => {
  it('reads every certificate with its names and validity, ignoring text between blocks', () => {
    // Arrange: the layout `openssl x509 -subject` and distro bundles use.
    const text = `# Hospital PKI\nsubject=CN=Hospital Root CA\n${root.cert}\n\n${issuing.cert}`;

    // Act
    const parsed = parseCaBundle(text);

    // Assert
    expect(parsed.ok).toBe(true);
    const certificates = parsed.ok ? parsed.bundle.certificates : [];
    expect(certificates.map((c) => [c.subjectCn, c.issuerCn, c.isCa])).toEqual([
      ['Hospital Root CA', 'Hospital Root CA', true],
      ['Hospital Issuing CA', 'Hospital Root CA', true],
    ]);
    expect(certificates[0]!.notAfterMs).toBeGreaterThan(Date.now());
    expect(certificates[0]!.pem).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('accepts CRLF line ends', () => {
    expect(parseCaBundle(root.cert.replaceAll('\n', '\r\n')).ok).toBe(true);
  });

  it.each([
    ['an empty file', '', 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
    [
      'a DER file read as text',
      '0\u0082\u0003\u0001garbage',
      'holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
    ],
    [
      'a block that is not base64 DER',
      '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
      'certificate 1 does not parse as an X.509 certificate',
    ],
    [
      'a block closed with another label',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END PUBLIC KEY-----\n',
      'PEM block 1 is not closed',
    ],
    [
      'a certificate cut off before its END line',
      '-----BEGIN CERTIFICATE-----\nMIIB\n',
      'PEM block 1 is not closed',
    ],
    [
      'a public key',
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
      'PEM block 1 is a PUBLIC KEY block: a CA bundle holds only CERTIFICATE blocks',
    ],
  ])('refuses %s', (_what, text, problem) => {
    expect(parseCaBundle(text)).toEqual({ ok: false, problem });
  });

  it('refuses a private key beside the certificates, naming the block and never its content', () => {
    // Arrange
    const text = `${root.cert}${root.key}`;

    // Act
    const parsed = parseCaBundle(text);

    // Assert
    expect(parsed).toEqual({
      ok: false,
      problem:
        'PEM block 2 is a private key: a CA bundle holds certificates only (remove the key, and treat it as exposed)',
    });
  });

  it('refuses a file over the size cap without parsing it', () => {
    const text = `${root.cert}${'#'.repeat(MAX_CA_BUNDLE_BYTES)}`;
    expect(parseCaBundle(text)).toEqual({
      ok: false,
      problem: `is over ${MAX_CA_BUNDLE_BYTES} bytes: not a CA bundle`,
    });
  });

  it('lists certificates outside their validity for a warning', () => {
    // Arrange
    const expired = makeCertificate({
      commonName: 'Old Root',
      ca: true,
      notBefore: daysFromNow(-400),
      notAfter: daysFromNow(-2),
    });
    const parsed = parseCaBundle(`${root.cert}${expired.cert}`);

    // Act
    const outside = parsed.ok ? certificatesOutsideValidity(parsed.bundle, Date.now()) : [];

    // Assert
    expect(outside.map((c) => c.subjectCn)).toEqual(['Old Root']);
  });
});

describe('readCaBundleFile', () => {
  it('reads a bundle file', async () => {
    const path = join(dir, 'ca.pem');
    await writeFile(path, root.cert);
    expect(readCaBundleFile(path)).toMatchObject({ ok: true });
  });

  it('names the error code of an unreadable file', () => {
    expect(readCaBundleFile(join(dir, 'missing.pem'))).toEqual({
      ok: false,
      problem: 'cannot be read (ENOENT)',
    });
  });
});

describe('tlsFailureOf', () => {
  it.each([
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unknown_ca'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'unknown_ca'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'unknown_ca'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unknown_ca'],
    ['CERT_HAS_EXPIRED', 'expired'],
    ['CERT_NOT_YET_VALID', 'not_yet_valid'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'host_mismatch'],
    ['CERT_REVOKED', 'bad_certificate'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'handshake'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'handshake'],
  ])('maps %s to %s, on the error or on its cause', (code, cause) => {
    expect(tlsFailureOf(Object.assign(new Error('x'), { code }))).toEqual({ cause, code });
    expect(tlsFailureOf(new TypeError('fetch failed', { cause: { code } }))).toEqual({ cause, code });
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'lower_case', undefined])(
    'is not a TLS failure: %s',
    (code) => {
      expect(tlsFailureOf(Object.assign(new Error('x'), { code }))).toBeUndefined();
    },
  );

  it('keeps only the sanitised subject CN of a certificate for another name', () => {
    // Arrange: Node attaches the whole peer certificate to this error.
    const error = Object.assign(new Error('x'), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      cert: {
        subject: { CN: 'evil\u001b[31m.test', O: 'Org' },
        raw: Buffer.from('x'),
        subjectaltname: 'DNS:a',
      },
    });

    // Act
    const failure = tlsFailureOf(error);

    // Assert
    expect(failure).toEqual({
      cause: 'host_mismatch',
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      certificateCn: 'evil?[31m.test',
    });
  });
});
