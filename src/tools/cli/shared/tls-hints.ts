/**
 * What to do about a TLS failure of a discovery or JWKS fetch (src/core/keys/tls-failure.ts), in one
 * sentence shared by `check` and `explain`. An unknown CA is what an on-premises IdP (ADFS,
 * Keycloak) with the hospital's private CA looks like, so its hint names the CA bundle: `--ca-bundle`
 * here, the `caBundle` deployment setting for the function (docs/deployment.md).
 */

import type { TlsFailureCause } from '../../../core/keys/tls-failure.ts';

export interface TlsHintInput {
  cause: TlsFailureCause;
  /** Node's error code (SELF_SIGNED_CERT_IN_CHAIN …). */
  code?: string;
  /** The CA bundle the fetch already trusted, if any. */
  caBundleFile?: string;
}

/** The hint's input from a failed fetch's facts; what is not known stays absent. */
export function tlsHintInput(
  cause: TlsFailureCause,
  code: string | undefined,
  caBundleFile: string | undefined,
): TlsHintInput {
  return {
    cause,
    ...(code === undefined ? {} : { code }),
    ...(caBundleFile === undefined ? {} : { caBundleFile }),
  };
}

export function tlsHint({ cause, code, caBundleFile }: TlsHintInput): string {
  switch (cause) {
    case 'unknown_ca':
      if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
        return caBundleFile === undefined
          ? 'the IdP presents a self-signed certificate: have the hospital CA issue it one and pass that CA with --ca-bundle FILE (deployments: the caBundle setting), or pass the certificate itself'
          : `the IdP presents a self-signed certificate that is not in ${caBundleFile}: add it (or have the hospital CA in that bundle issue one)`;
      }
      return caBundleFile === undefined
        ? 'unknown CA: the certificate chains to no CA this machine trusts — an on-premises IdP (ADFS, Keycloak) is usually signed by the hospital’s private CA: pass its PEM with --ca-bundle FILE (deployments: the caBundle setting)'
        : `unknown CA: the certificate chains to neither the default CAs nor ${caBundleFile}: the bundle needs the CA that issued the IdP’s certificate (its root; intermediates the server does not send must be in the bundle too)`;
    case 'expired':
      return 'the certificate has expired (the IdP’s, or a CA’s in its chain): renew it; an expired certificate is never accepted, bundle or not';
    case 'not_yet_valid':
      return 'the certificate is not valid yet: check the clock of the machine that issued it and of this one';
    case 'host_mismatch':
      return 'the certificate is issued for another host name: use a host name the certificate lists in the issuer and jwksUri (not an IP address or a short name), or reissue it with this name in subjectAltName';
    case 'bad_certificate':
      return `the certificate was rejected${code === undefined ? '' : ` (${code})`}: ask the IdP’s administrator (revoked, a bad signature, or a certificate used as a CA that is not one)`;
    case 'handshake':
      return 'no TLS session: is it HTTPS on that port (not plain HTTP), and does the IdP offer TLS 1.2 or later?';
    default: {
      const unreachable: never = cause;
      return unreachable;
    }
  }
}
