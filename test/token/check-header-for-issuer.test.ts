/**
 * checkHeaderForIssuer: the issuer's algorithm allowlist and required `typ`.
 * Row numbers are the cases of the hostile-input catalogue, test/security/catalogue.test.ts.
 */

import { describe, expect, it } from 'vitest';
import type { IssuerConfig } from '../../src/core/config/schema.ts';
import { checkHeaderForIssuer } from '../../src/core/token/check-header-for-issuer.ts';
import { inspectToken, type JoseHeaderFacts } from '../../src/core/token/inspect-token.ts';
import { issuerConfig as fixtureIssuer } from '../support/key-store-fixture.ts';
import { epoch, makeKey, signRaw, signToken, type TestKey } from '../support/keys.ts';

const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);
const CLAIMS = {
  iss: 'https://idp.example.com',
  sub: 'user-1',
  iat: epoch(NOW_MS, -60),
  exp: epoch(NOW_MS, 600),
};

const rsaKey = await makeKey('RS256', 'rsa-1');
const ecKey = await makeKey('ES256', 'ec-1');
const edKey = await makeKey('EdDSA', 'ed-1');

/** The shared fixture issuer, with no clock tolerance as before (the header checks do not read it). */
const issuerConfig = (overrides: Partial<IssuerConfig> = {}): IssuerConfig =>
  fixtureIssuer('https://idp.example.com', { clockToleranceSeconds: 0, ...overrides });

/** Header facts exactly as inspectToken extracts them from a real minted token. */
async function headerOf(key: TestKey, extra: Record<string, unknown> = {}): Promise<JoseHeaderFacts> {
  const result = inspectToken(await signToken(key, CLAIMS, extra));
  if (!result.ok) throw new Error(`fixture token rejected: ${result.reason}`);
  return result.token.header;
}

/** Header facts for a header jose would not sign (e.g. alg Ed25519 over an EdDSA key). */
function rawHeaderOf(key: TestKey, header: Record<string, unknown>): JoseHeaderFacts {
  const result = inspectToken(signRaw(key, JSON.stringify(header), JSON.stringify(CLAIMS)));
  if (!result.ok) throw new Error(`fixture token rejected: ${result.reason}`);
  return result.token.header;
}

describe('checkHeaderForIssuer', () => {
  describe('alg against the issuer allowlist (RFC 8725 §3.1)', () => {
    it('accepts an alg in the issuer algorithms', async () => {
      // Arrange
      const header = await headerOf(rsaKey);

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig());

      // Assert
      expect(result).toEqual({ ok: true });
    });

    it('accepts any alg of a multi-algorithm allowlist', async () => {
      // Arrange
      const header = await headerOf(ecKey);

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig({ algorithms: ['RS256', 'ES256'] }));

      // Assert
      expect(result).toEqual({ ok: true });
    });

    it('denies with alg_not_allowed when the alg is asymmetric but not in the issuer algorithms', async () => {
      // Arrange
      const header = await headerOf(ecKey);

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig({ algorithms: ['RS256'] }));

      // Assert
      expect(result).toEqual({
        ok: false,
        reason: 'alg_not_allowed',
        detail: "alg ES256 is not in this issuer's algorithms (RS256)",
      });
    });

    it('denies with alg_not_allowed for EdDSA when only Ed25519 is configured (distinct names)', async () => {
      // Arrange
      const header = await headerOf(edKey);

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig({ algorithms: ['Ed25519'] }));

      // Assert
      expect(header.alg).toBe('EdDSA');
      expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
    });

    it('denies with alg_not_allowed for Ed25519 when only EdDSA is configured (distinct names)', () => {
      // Arrange
      const header = rawHeaderOf(edKey, { alg: 'Ed25519', kid: edKey.kid });

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig({ algorithms: ['EdDSA'] }));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
    });

    it('denies with alg_not_allowed for HS256 even when a hand-built config lists it (row 20)', () => {
      // Arrange
      const header: JoseHeaderFacts = { alg: 'HS256', kid: 'k' };
      const issuer = issuerConfig({ algorithms: ['HS256'] as unknown as IssuerConfig['algorithms'] });

      // Act
      const result = checkHeaderForIssuer(header, issuer);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
    });

    it('denies with alg_not_allowed instead of throwing when the issuer config is unreadable', async () => {
      // Arrange
      const header = await headerOf(rsaKey);
      const broken = { issuer: 'https://idp.example.com' } as unknown as IssuerConfig;

      // Act
      const result = checkHeaderForIssuer(header, broken);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
    });
  });

  describe('typ when the issuer sets tokenType (RFC 9068 §4, RFC 8725 §3.11; row 39)', () => {
    it.each([
      ['at+jwt', 'at+jwt'],
      ['at+jwt', 'AT+JWT'],
      ['at+jwt', 'application/at+jwt'],
      ['at+jwt', 'Application/At+Jwt'],
      ['application/at+jwt', 'at+jwt'],
      ['AT+JWT', 'application/at+jwt'],
    ])('accepts tokenType %s with typ %s', async (tokenType, typ) => {
      // Arrange
      const header = await headerOf(rsaKey, { typ });

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig({ tokenType }));

      // Assert
      expect(result).toEqual({ ok: true });
    });

    it.each([
      ['JWT', 'JWT'],
      ['dpop+jwt', 'dpop+jwt'],
      ['an empty string', ''],
      ['a trailing space', 'at+jwt '],
      ['a doubled prefix', 'application/application/at+jwt'],
      ['another media tree', 'text/at+jwt'],
      ['a fullwidth plus', 'at\uff0bjwt'],
    ])('denies with typ_invalid when typ is %s', async (_name, typ) => {
      // Arrange
      const header = await headerOf(rsaKey, { typ });

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig({ tokenType: 'at+jwt' }));

      // Assert
      expect(result).toEqual({
        ok: false,
        reason: 'typ_invalid',
        detail: 'typ is not the issuer\'s tokenType "at+jwt" (compared without case and "application/")',
      });
    });

    it.each([
      ['a number', 1],
      ['null', null],
      ['an array', ['at+jwt']],
    ])('denies with typ_invalid when typ is %s', async (_name, typ) => {
      // Arrange
      const header = await headerOf(rsaKey, { typ });

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig({ tokenType: 'at+jwt' }));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'typ_invalid' });
      expect(result.ok ? '' : result.detail).toMatch(
        /^typ is (a number|null|an array), not a string; the issuer's tokenType requires "at\+jwt"$/,
      );
    });

    it('denies with typ_invalid when the header has no typ', async () => {
      // Arrange
      const header = await headerOf(rsaKey);

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig({ tokenType: 'at+jwt' }));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'typ_invalid' });
    });

    it('folds ASCII case only: a Kelvin sign does not match k', async () => {
      // Arrange: U+212A lower-cases to "k" with Unicode folding.
      const header = await headerOf(rsaKey, { typ: 'at+\u212Awt' });

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig({ tokenType: 'at+kwt' }));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'typ_invalid' });
    });

    it('checks alg before typ', async () => {
      // Arrange
      const header = await headerOf(ecKey, { typ: 'JWT' });

      // Act
      const result = checkHeaderForIssuer(header, issuerConfig({ tokenType: 'at+jwt' }));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
    });
  });

  it.each([
    ['absent', undefined],
    ['JWT', 'JWT'],
    ['a number', 5],
  ])('does not check typ when the issuer sets no tokenType (typ %s)', async (_name, typ) => {
    // Arrange
    const header = await headerOf(rsaKey, typ === undefined ? {} : { typ });

    // Act
    const result = checkHeaderForIssuer(header, issuerConfig());

    // Assert
    expect(result).toEqual({ ok: true });
  });
});
