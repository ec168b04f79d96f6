/**
 * A private CA bundle (for an on-premises IdP whose certificate the hospital's own CA signed): PEM
 * text parsed into certificates the discovery and JWKS fetches trust besides Node's defaults. `cdk
 * synth`, the Lambda and the CLI share this parser, so a bundle that synthesizes works. Problems name
 * a block by position, never its content.
 */

import type * as Crypto from 'node:crypto';
import { sanitize } from '../observability/sanitize.ts';

export interface CaCertificate {
  /** One `-----BEGIN CERTIFICATE-----` block, as given. */
  readonly pem: string;
  /** Subject and issuer common names, for display (sanitised: printable ASCII, 128 characters). */
  readonly subjectCn?: string;
  readonly issuerCn?: string;
  /** Epoch milliseconds. */
  readonly notAfterMs: number;
  readonly notBeforeMs: number;
  /** basicConstraints cA. */
  readonly isCa: boolean;
}

export interface CaBundle {
  readonly certificates: readonly CaCertificate[];
}

export type ParseCaBundleResult = { ok: true; bundle: CaBundle } | { ok: false; problem: string };

/** Far above any real bundle (even the whole Mozilla store is a fraction of it); bounds the work at init. */
export const MAX_CA_BUNDLE_BYTES = 1_048_576;
const MAX_CERTIFICATES = 1_000;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]{1,40})-----/g;

export function parseCaBundle(text: string): ParseCaBundleResult {
  if (Buffer.byteLength(text) > MAX_CA_BUNDLE_BYTES) {
    return { ok: false, problem: `is over ${MAX_CA_BUNDLE_BYTES} bytes: not a CA bundle` };
  }
  const { X509Certificate } = process.getBuiltinModule('node:crypto');
  const certificates: CaCertificate[] = [];
  let index = 0;
  for (const match of text.matchAll(PEM_BLOCK)) {
    index += 1;
    const [block, label, , endLabel] = match;
    if (label !== endLabel) return { ok: false, problem: `PEM block ${index} is not closed` };
    // A private key in the file is refused, not skipped: it would ship with the code.
    if (label !== 'CERTIFICATE') {
      return {
        ok: false,
        problem: /PRIVATE KEY/.test(label ?? '')
          ? `PEM block ${index} is a private key: a CA bundle holds certificates only (remove the key, and treat it as exposed)`
          : `PEM block ${index} is a ${label ?? 'non-certificate'} block: a CA bundle holds only CERTIFICATE blocks`,
      };
    }
    if (certificates.length >= MAX_CERTIFICATES) {
      return { ok: false, problem: `holds over ${MAX_CERTIFICATES} certificates` };
    }
    let x509: Crypto.X509Certificate;
    try {
      x509 = new X509Certificate(block);
    } catch {
      return { ok: false, problem: `certificate ${index} does not parse as an X.509 certificate` };
    }
    const subjectCn = commonName(x509.subject);
    const issuerCn = commonName(x509.issuer);
    certificates.push({
      pem: `${block}\n`,
      ...(subjectCn === undefined ? {} : { subjectCn }),
      ...(issuerCn === undefined ? {} : { issuerCn }),
      notAfterMs: Date.parse(x509.validTo),
      notBeforeMs: Date.parse(x509.validFrom),
      isCa: x509.ca,
    });
  }
  // A BEGIN line without its END (a truncated copy) is refused, not skipped.
  if ((text.match(/-----BEGIN /g) ?? []).length !== index) {
    return { ok: false, problem: `PEM block ${index + 1} is not closed` };
  }
  if (certificates.length === 0) {
    return { ok: false, problem: 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)' };
  }
  return { ok: true, bundle: { certificates } };
}

/** Reads and parses a bundle file; the problem names the file's error code, never its content. */
export function readCaBundleFile(path: string): ParseCaBundleResult {
  const { readFileSync, statSync } = process.getBuiltinModule('node:fs');
  let text: string;
  try {
    if (statSync(path).size > MAX_CA_BUNDLE_BYTES) {
      return { ok: false, problem: `is over ${MAX_CA_BUNDLE_BYTES} bytes: not a CA bundle` };
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, problem: `cannot be read${typeof code === 'string' ? ` (${code})` : ''}` };
  }
  return parseCaBundle(text);
}

/** Certificates of the bundle that are expired (or not yet valid) at `nowMs`, for warnings. */
export function certificatesOutsideValidity(bundle: CaBundle, nowMs: number): CaCertificate[] {
  return bundle.certificates.filter(
    (certificate) => !(certificate.notBeforeMs <= nowMs && nowMs <= certificate.notAfterMs),
  );
}

/** `CN=…` of an X509Certificate subject or issuer (one attribute per line); undefined without one. */
function commonName(distinguishedName: string): string | undefined {
  const match = /^CN=(.*)$/m.exec(distinguishedName);
  return sanitize(match?.[1]);
}

/** `CN=name` or `certificate N` when the certificate has no common name. */
export function describeCaCertificate(certificate: CaCertificate, index: number): string {
  return certificate.subjectCn === undefined ? `certificate ${index + 1}` : `CN=${certificate.subjectCn}`;
}
