/**
 * Discovery URL construction (OIDC Discovery §4) and the trust rules for the discovery document
 * (OIDC Discovery §4.3).
 */

import { describe, expect, it } from 'vitest';
import { discoveryUrl, parseDiscovery } from '../../src/core/keys/discovery.ts';

const ISSUER = 'https://keycloak.example.org/realms/dcm4che';

describe('discoveryUrl', () => {
  it.each([
    [ISSUER, `${ISSUER}/.well-known/openid-configuration`],
    [`${ISSUER}/`, `${ISSUER}/.well-known/openid-configuration`],
    [`${ISSUER}///`, `${ISSUER}/.well-known/openid-configuration`],
    [
      'https://sts.windows.net/00000000-0000-0000-0000-000000000001/',
      'https://sts.windows.net/00000000-0000-0000-0000-000000000001/.well-known/openid-configuration',
    ],
  ])('builds the well-known URL for %s', (issuer, expected) => {
    expect(discoveryUrl(issuer)).toBe(expected);
  });
});

describe('parseDiscovery', () => {
  it('returns the jwks_uri when the issuer matches byte for byte', () => {
    // Arrange
    const doc = { issuer: ISSUER, jwks_uri: `${ISSUER}/protocol/openid-connect/certs`, extra: [1, 2] };

    // Act
    const result = parseDiscovery(doc, ISSUER);

    // Assert
    expect(result).toEqual({ ok: true, jwksUri: `${ISSUER}/protocol/openid-connect/certs` });
  });

  it.each([
    ['a trailing slash', `${ISSUER}/`],
    ['different case', ISSUER.toUpperCase()],
    ['http instead of https', ISSUER.replace('https:', 'http:')],
    ['a missing issuer', undefined],
    ['an issuer array', [ISSUER]],
  ])('fails with issuer_mismatch on %s', (_what, published) => {
    // Act
    const result = parseDiscovery({ issuer: published, jwks_uri: `${ISSUER}/certs` }, ISSUER);

    // Assert
    expect(result).toMatchObject({ ok: false, cause: 'issuer_mismatch' });
  });

  it('does not echo the published issuer in the detail', () => {
    // Act
    const result = parseDiscovery(
      { issuer: 'https://evil.example/marker', jwks_uri: `${ISSUER}/certs` },
      ISSUER,
    );

    // Assert
    expect(JSON.stringify(result)).not.toContain('marker');
  });

  it.each([
    ['http on a non-loopback host', 'http://keycloak.example.org/certs'],
    ['a relative URL', '/certs'],
    ['credentials in the URL', 'https://user:pw@keycloak.example.org/certs'],
    ['a number', 42],
    ['absent', undefined],
  ])('fails with invalid when jwks_uri is %s', (_what, jwksUri) => {
    expect(parseDiscovery({ issuer: ISSUER, jwks_uri: jwksUri }, ISSUER)).toMatchObject({
      ok: false,
      cause: 'invalid',
    });
  });

  it('accepts an http jwks_uri on a loopback host', () => {
    expect(parseDiscovery({ issuer: ISSUER, jwks_uri: 'http://127.0.0.1:8080/certs' }, ISSUER)).toEqual({
      ok: true,
      jwksUri: 'http://127.0.0.1:8080/certs',
    });
  });

  it.each([
    ['null', null],
    ['an array', [{ issuer: ISSUER }]],
    ['a string', ISSUER],
  ])('fails with invalid when the document is %s', (_what, doc) => {
    expect(parseDiscovery(doc, ISSUER)).toMatchObject({ ok: false, cause: 'invalid' });
  });
});
