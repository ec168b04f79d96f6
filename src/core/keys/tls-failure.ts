/**
 * What a TLS failure of a discovery or JWKS fetch was, from the error code Node gives it (on the error
 * with node:https, on its `cause` with fetch): a fixed cause an operator can act on. Nothing of the
 * peer's certificate is kept except, for a host name mismatch, its subject common name.
 */

import { sanitize } from '../observability/sanitize.ts';

/**
 * `unknown_ca`: no trusted CA issued the chain (a private CA not in the bundle, a self-signed
 * certificate, a server that omits its intermediates); `expired` / `not_yet_valid`: outside its
 * validity; `host_mismatch`: issued for another name; `bad_certificate`: any other verification
 * failure (revoked, bad signature, not a CA …); `handshake`: no TLS session at all (not TLS on
 * that port, no common protocol version or cipher).
 */
export type TlsFailureCause =
  'unknown_ca' | 'expired' | 'not_yet_valid' | 'host_mismatch' | 'bad_certificate' | 'handshake';

export interface TlsFailure {
  cause: TlsFailureCause;
  /** Node's error code, e.g. SELF_SIGNED_CERT_IN_CHAIN. */
  code: string;
  /** With host_mismatch: the subject CN of the certificate the server presented, sanitised. */
  certificateCn?: string;
}

/** What each cause means, in the words a fetch detail uses. */
const TLS_FAILURE_TEXT: Readonly<Record<TlsFailureCause, string>> = {
  unknown_ca: 'certificate not issued by a trusted CA',
  expired: 'certificate expired',
  not_yet_valid: 'certificate not yet valid',
  host_mismatch: 'certificate issued for another host name',
  bad_certificate: 'certificate rejected',
  handshake: 'handshake failed',
};

/**
 * Node's error codes by cause: OpenSSL's certificate verification codes without the X509_V_ERR_
 * prefix (https://nodejs.org/api/tls.html#x509-certificate-error-codes) and Node's own host name
 * check (https://nodejs.org/api/errors.html#err_tls_cert_altname_invalid). ERR_SSL_* (OpenSSL
 * handshake errors) are `handshake` too.
 */
const CODES: Readonly<Record<TlsFailureCause, readonly string[]>> = {
  unknown_ca: [
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'UNABLE_TO_GET_ISSUER_CERT',
    'CERT_UNTRUSTED',
  ],
  expired: ['CERT_HAS_EXPIRED'],
  not_yet_valid: ['CERT_NOT_YET_VALID'],
  host_mismatch: ['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH'],
  // The rest of Node's X.509 verification codes.
  bad_certificate: [
    'UNABLE_TO_GET_CRL',
    'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
    'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
    'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
    'CERT_SIGNATURE_FAILURE',
    'CRL_SIGNATURE_FAILURE',
    'CRL_NOT_YET_VALID',
    'CRL_HAS_EXPIRED',
    'ERROR_IN_CERT_NOT_BEFORE_FIELD',
    'ERROR_IN_CERT_NOT_AFTER_FIELD',
    'ERROR_IN_CRL_LAST_UPDATE_FIELD',
    'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
    'CERT_CHAIN_TOO_LONG',
    'CERT_REVOKED',
    'INVALID_CA',
    'PATH_LENGTH_EXCEEDED',
    'INVALID_PURPOSE',
    'CERT_REJECTED',
    'ERR_TLS_CERT_ALTNAME_FORMAT',
  ],
  // EPROTO: the system error some Node versions give for a failed handshake.
  handshake: ['EPROTO'],
};

let byCode: Map<string, TlsFailureCause> | undefined;

function causeOf(code: string): TlsFailureCause | undefined {
  byCode ??= new Map(
    (Object.entries(CODES) as [TlsFailureCause, readonly string[]][]).flatMap(([cause, codes]) =>
      codes.map((each) => [each, cause] as const),
    ),
  );
  return byCode.get(code) ?? (code.startsWith('ERR_SSL_') ? 'handshake' : undefined);
}

/** The TLS failure an error (or its cause) stands for; undefined for anything else. */
export function tlsFailureOf(error: unknown): TlsFailure | undefined {
  return classify(error) ?? classify((error as { cause?: unknown } | undefined)?.cause);
}

function classify(error: unknown): TlsFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[A-Z][A-Z0-9_]{1,60}$/.test(code)) return undefined;
  const cause = causeOf(code);
  if (cause === undefined) return undefined;
  const failure: TlsFailure = { cause, code };
  if (cause === 'host_mismatch') {
    // Node attaches the peer certificate to this error (tls.checkServerIdentity): keep its CN only.
    const cn = sanitize((error as { cert?: { subject?: { CN?: unknown } } }).cert?.subject?.CN);
    if (cn !== undefined) failure.certificateCn = cn;
  }
  return failure;
}

/** The fetch detail for a TLS failure: `TLS certificate expired (CERT_HAS_EXPIRED)`. */
export function tlsFailureDetail(failure: TlsFailure): string {
  const presented = failure.certificateCn === undefined ? '' : `; presented CN=${failure.certificateCn}`;
  return `TLS ${TLS_FAILURE_TEXT[failure.cause]} (${failure.code}${presented})`;
}
