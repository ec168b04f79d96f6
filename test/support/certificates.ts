/**
 * X.509 certificates made in-process for TLS tests (no openssl, no committed keys): a small DER writer
 * for the fields a TLS client reads (RFC 5280 §4.1), signed with ECDSA P-256 by node:crypto. Enough for
 * a private CA, the leaves it signs (expired, not yet valid, another name) and self-signed leaves.
 */

import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';

export interface TestCertificate {
  /** PEM of the certificate. */
  cert: string;
  /** PEM (PKCS #8) of its private key. */
  key: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  subject: string;
  x509: X509Certificate;
}

export interface CertificateOptions {
  /** The subject's common name. */
  commonName: string;
  /** DNS names and IP addresses for subjectAltName (a leaf's host names). */
  altNames?: readonly string[];
  /** A CA (basicConstraints cA, keyCertSign) or a TLS server leaf. Default false. */
  ca?: boolean;
  /** Signs the certificate; default self-signed. */
  issuer?: TestCertificate;
  notBefore?: Date;
  notAfter?: Date;
}

const DAY_MS = 86_400_000;

// --- DER (X.690) ---------------------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...items: Buffer[]) => tlv(0x30, ...items);
const set = (...items: Buffer[]) => tlv(0x31, ...items);
const explicit = (n: number, item: Buffer) => tlv(0xa0 + n, item);
const octetString = (bytes: Buffer) => tlv(0x04, bytes);
const bitString = (bytes: Buffer) => tlv(0x03, Buffer.from([0]), bytes);
const booleanTrue = () => tlv(0x01, Buffer.from([0xff]));
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));

function integer(bytes: Buffer): Buffer {
  // A positive INTEGER: a leading 1 bit needs a 0 byte in front.
  const first = bytes[0] ?? 0;
  return tlv(0x02, first & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [a * 40 + b];
  for (const arc of rest) {
    const parts: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      parts.unshift((value % 128) | (parts.length > 0 ? 0x80 : 0));
      if (value < 128) break;
    }
    bytes.push(...parts);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

const name = (commonName: string) => sequence(set(sequence(oid('2.5.4.3'), utf8(commonName))));

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [booleanTrue()] : []), octetString(value));
}

function generalName(value: string): Buffer {
  const version = isIP(value);
  if (version === 4) return tlv(0x87, Buffer.from(value.split('.').map(Number)));
  if (version === 6) throw new Error('IPv6 alt names are not needed by the tests');
  return tlv(0x82, Buffer.from(value, 'ascii'));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // For P-256 the SPKI is 26 bytes of algorithm and header, then the 65-byte point.
  return createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

export function makeCertificate(options: CertificateOptions): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const notBefore = options.notBefore ?? new Date(now - DAY_MS);
  const notAfter = options.notAfter ?? new Date(now + 30 * DAY_MS);
  const issuerName = options.issuer?.subject ?? options.commonName;
  const issuerKey = options.issuer?.publicKey ?? publicKey;
  const signingKey = options.issuer?.privateKey ?? privateKey;

  // Positive and minimal (DER): a first byte from 0x01 to 0x7f.
  const serialBytes = randomBytes(12);
  serialBytes[0] = ((serialBytes[0] ?? 0) % 0x7f) + 1;

  const extensions = [
    extension('2.5.29.19', true, options.ca ? sequence(booleanTrue()) : sequence()),
    // keyUsage: keyCertSign + cRLSign for a CA, digitalSignature for a leaf.
    extension(
      '2.5.29.15',
      true,
      options.ca ? tlv(0x03, Buffer.from([1, 0x06])) : tlv(0x03, Buffer.from([7, 0x80])),
    ),
    extension('2.5.29.14', false, octetString(keyIdentifier(publicKey))),
    extension('2.5.29.35', false, sequence(tlv(0x80, keyIdentifier(issuerKey)))),
  ];
  if (!options.ca) {
    // extKeyUsage serverAuth
    extensions.push(extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))));
  }
  if (options.altNames !== undefined && options.altNames.length > 0) {
    extensions.push(extension('2.5.29.17', false, sequence(...options.altNames.map(generalName))));
  }

  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serialBytes),
    ECDSA_WITH_SHA256,
    name(issuerName),
    sequence(time(notBefore), time(notAfter)),
    name(options.commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signingKey);
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
  const cert = `-----BEGIN CERTIFICATE-----\n${der
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  return {
    cert,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    privateKey,
    publicKey,
    subject: options.commonName,
    x509: new X509Certificate(cert),
  };
}

/** A private CA (think: the hospital's) and helpers for the leaves it signs. */
export function makePrivateCa(commonName = 'Test Hospital Root CA'): TestCertificate {
  return makeCertificate({ commonName, ca: true, notAfter: new Date(Date.now() + 365 * DAY_MS) });
}

/** A TLS server certificate for 127.0.0.1 and localhost (or `altNames`), signed by `ca`. */
export function makeServerCertificate(
  ca: TestCertificate | undefined,
  options: Partial<Omit<CertificateOptions, 'ca' | 'issuer'>> = {},
): TestCertificate {
  return makeCertificate({
    commonName: options.commonName ?? 'idp.test',
    altNames: options.altNames ?? ['127.0.0.1', 'localhost'],
    ...(ca === undefined ? {} : { issuer: ca }),
    ...(options.notBefore === undefined ? {} : { notBefore: options.notBefore }),
    ...(options.notAfter === undefined ? {} : { notAfter: options.notAfter }),
  });
}

export const daysFromNow = (days: number) => new Date(Date.now() + days * DAY_MS);
