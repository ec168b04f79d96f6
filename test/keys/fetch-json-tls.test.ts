/**
 * fetchJson over HTTPS against loopback servers whose certificates come from a private test CA:
 * without the CA bundle every certificate problem is a `tls` failure with its cause (never the
 * generic `network`), with the bundle the same server answers, and what is wrong with a certificate
 * the bundle trusts (expired, not yet valid, another name) is still refused and named.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CaBundle, parseCaBundle } from '../../src/core/keys/ca-bundle.ts';
import { fetchJson } from '../../src/core/keys/fetch-json.ts';
import {
  daysFromNow,
  makeCertificate,
  makePrivateCa,
  makeServerCertificate,
  type TestCertificate,
} from '../support/certificates.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';

let ca: TestCertificate;
let bundle: CaBundle;
let server: IdpServer | undefined;

beforeAll(() => {
  ca = makePrivateCa();
  const parsed = parseCaBundle(ca.cert);
  if (!parsed.ok) throw new Error(parsed.problem);
  bundle = parsed.bundle;
});

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(leaf: TestCertificate, chain: TestCertificate[] = []): Promise<string> {
  server = await startIdpServer({
    tls: { cert: [leaf.cert, ...chain.map((c) => c.cert)].join(''), key: leaf.key },
  });
  server.on('/doc', { kind: 'json', body: { keys: [] } });
  return `${server.url}/doc`;
}

const signal = () => AbortSignal.timeout(5_000);

describe('fetchJson over https without the CA bundle', () => {
  it.each([
    ['sends only its leaf', () => [makeServerCertificate(ca)], 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['sends its leaf and the private CA', () => [makeServerCertificate(ca), ca], 'SELF_SIGNED_CERT_IN_CHAIN'],
    [
      'has a self-signed certificate',
      () => [makeCertificate({ commonName: 'adfs.test', altNames: ['127.0.0.1'] })],
      'DEPTH_ZERO_SELF_SIGNED_CERT',
    ],
  ])('fails with tls / unknown_ca when the server %s', async (_what, certificates, code) => {
    // Arrange
    const [leaf, ...chain] = certificates();
    const url = await serve(leaf!, chain);

    // Act
    const outcome = await fetchJson(url, { signal: signal() });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'tls', tlsCause: 'unknown_ca', tlsCode: code });
    expect(!outcome.ok && outcome.detail).toBe(`TLS certificate not issued by a trusted CA (${code})`);
  });

  it('fails with tls / handshake when the port speaks plain HTTP', async () => {
    // Arrange: an http server asked for https.
    const plain = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const { port } = plain.address() as AddressInfo;

    // Act
    const outcome = await fetchJson(`https://127.0.0.1:${port}/doc`, { signal: signal() });
    plain.closeAllConnections();
    await new Promise<void>((resolve) => plain.close(() => resolve()));

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'tls', tlsCause: 'handshake' });
  });

  it('names the TLS cause through an injected fetch too (the code is on the error cause)', async () => {
    // Arrange
    const url = await serve(makeServerCertificate(ca));

    // Act
    const outcome = await fetchJson(url, { signal: signal(), fetch: globalThis.fetch });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'tls', tlsCause: 'unknown_ca' });
  });
});

describe('fetchJson over https with the CA bundle', () => {
  it('fetches from a server whose certificate the private CA signed', async () => {
    // Arrange
    const url = await serve(makeServerCertificate(ca));

    // Act
    const outcome = await fetchJson(url, { signal: signal(), caBundle: bundle });

    // Assert
    expect(outcome).toMatchObject({ ok: true, value: { keys: [] } });
  });

  it('still trusts the default CAs beside the bundle, and a fetch without it does not reuse its trust', async () => {
    // Arrange: the same server, first with the bundle (connection kept alive), then without.
    const url = await serve(makeServerCertificate(ca));
    const first = await fetchJson(url, { signal: signal(), caBundle: bundle });

    // Act
    const second = await fetchJson(url, { signal: signal() });

    // Assert
    expect(first.ok).toBe(true);
    expect(second).toMatchObject({ ok: false, cause: 'tls', tlsCause: 'unknown_ca' });
  });

  it.each([
    [
      'expired',
      () => makeServerCertificate(ca, { notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) }),
      'CERT_HAS_EXPIRED',
      'TLS certificate expired (CERT_HAS_EXPIRED)',
    ],
    [
      'not_yet_valid',
      () => makeServerCertificate(ca, { notBefore: daysFromNow(1), notAfter: daysFromNow(30) }),
      'CERT_NOT_YET_VALID',
      'TLS certificate not yet valid (CERT_NOT_YET_VALID)',
    ],
    [
      'host_mismatch',
      () => makeServerCertificate(ca, { commonName: 'adfs.other.test', altNames: ['adfs.other.test'] }),
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'TLS certificate issued for another host name (ERR_TLS_CERT_ALTNAME_INVALID; presented CN=adfs.other.test)',
    ],
  ])('refuses a %s certificate the bundle would trust', async (cause, leaf, code, detail) => {
    // Arrange
    const url = await serve(leaf());

    // Act
    const outcome = await fetchJson(url, { signal: signal(), caBundle: bundle });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'tls', tlsCause: cause, tlsCode: code, detail });
  });

  it('does not trust another private CA', async () => {
    // Arrange
    const url = await serve(makeServerCertificate(makePrivateCa('Another Hospital CA')));

    // Act
    const outcome = await fetchJson(url, { signal: signal(), caBundle: bundle });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'tls', tlsCause: 'unknown_ca' });
  });
});
