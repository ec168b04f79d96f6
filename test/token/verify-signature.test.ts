import { sign as nodeSign } from 'node:crypto';
import { CompactSign, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/token/verify-signature.ts';
import { b64url, epoch, makeKey, signRaw, signToken, type TestAlg } from '../helpers/keys.ts';

const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);
const CLAIMS = {
  iss: 'https://idp.example.com',
  sub: 'user-1',
  iat: epoch(NOW_MS, -60),
  exp: epoch(NOW_MS, 600),
};

const rsaKey = await makeKey('RS256', 'rsa-1');
const ecKey = await makeKey('ES256', 'ec-1');
const rsaToken = await signToken(rsaKey, CLAIMS);
const ecToken = await signToken(ecKey, CLAIMS);

/** A detail is a jose error code or a built-in class name: never a message or token data. */
const SAFE_DETAIL = /^(ERR_[A-Z0-9_]+|[A-Za-z]*Error|[a-z ]+)$/;

/** The signing input (header.payload) of a compact token. */
const signingInputOf = (token: string): string => token.split('.').slice(0, 2).join('.');

describe('verifySignature', () => {
  it.each(['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'] as TestAlg[])(
    'accepts a %s token signed by the matching key',
    async (alg) => {
      // Arrange
      const key = await makeKey(alg);
      const token = await signToken(key, CLAIMS);

      // Act
      const result = await verifySignature(token, key.publicKey, alg);

      // Assert
      expect(result).toEqual({ ok: true });
    },
  );

  it('accepts a CryptoKey imported from the published JWK', async () => {
    // Arrange
    const cryptoKey = await importJWK(rsaKey.jwk, 'RS256');

    // Act
    const result = await verifySignature(rsaToken, cryptoKey, 'RS256');

    // Assert
    expect(result).toEqual({ ok: true });
  });

  describe('signature_invalid', () => {
    it('denies with signature_invalid when another key of the same type signed the token (row 56)', async () => {
      // Arrange
      const otherKey = await makeKey('RS256', 'rsa-1');
      const token = await signToken(otherKey, CLAIMS);

      // Act
      const result = await verifySignature(token, rsaKey.publicKey, 'RS256');

      // Assert
      expect(result).toEqual({
        ok: false,
        reason: 'signature_invalid',
        detail: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      });
    });

    it('denies with signature_invalid when the payload was swapped after signing', async () => {
      // Arrange
      const [header, , signature] = rsaToken.split('.');
      const payload = b64url(JSON.stringify({ ...CLAIMS, sub: 'admin' }));

      // Act
      const result = await verifySignature(`${header}.${payload}.${signature}`, rsaKey.publicKey, 'RS256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'signature_invalid' });
    });

    it.each([
      ['r=0, s=0 (CVE-2022-21449 "psychic signature")', new Uint8Array(64)],
      ['r=0, s=1', Uint8Array.from({ length: 64 }, (_, i) => (i === 63 ? 1 : 0))],
      ['empty (row 21, null signature)', new Uint8Array(0)],
      ['one byte short', new Uint8Array(63).fill(1)],
    ])(
      'row 23: denies with signature_invalid for an ES256 signature that is %s',
      async (_name, signature) => {
        // Arrange
        const token = `${signingInputOf(ecToken)}.${b64url(signature)}`;

        // Act
        const result = await verifySignature(token, ecKey.publicKey, 'ES256');

        // Assert
        expect(result).toMatchObject({ ok: false, reason: 'signature_invalid' });
      },
    );

    it('row 24: denies with signature_invalid for a valid ES256 signature in DER instead of P1363', async () => {
      // Arrange
      const input = signingInputOf(ecToken);
      const der = nodeSign('sha256', Buffer.from(input), ecKey.privateKey);

      // Act
      const result = await verifySignature(`${input}.${b64url(der)}`, ecKey.publicKey, 'ES256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'signature_invalid' });
    });
  });

  describe('alg_not_allowed', () => {
    it('denies with alg_not_allowed when the header alg is not the alg selected for the key', async () => {
      // Act
      const result = await verifySignature(rsaToken, rsaKey.publicKey, 'PS256');

      // Assert
      expect(result).toEqual({ ok: false, reason: 'alg_not_allowed', detail: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    });

    it('row 20: denies with alg_not_allowed for HS256 signed with the RSA public key as secret', async () => {
      // Arrange: the classic key-confusion token, correctly MACed with the public key's PEM bytes.
      const secret = Buffer.from(rsaKey.publicKey.export({ type: 'spki', format: 'pem' }));
      const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(CLAIMS)))
        .setProtectedHeader({ alg: 'HS256', kid: rsaKey.kid })
        .sign(secret);

      // Act
      const result = await verifySignature(token, secret, 'HS256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
    });

    it.each(['none', 'HS256', 'Ed448', ''])(
      'denies with alg_not_allowed when asked to verify with %j',
      async (alg) => {
        // Act
        const result = await verifySignature(rsaToken, rsaKey.publicKey, alg);

        // Assert
        expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
      },
    );

    it('denies with alg_not_allowed when jose does not support a critical extension', async () => {
      // Arrange: jose would refuse to sign this header, so sign the raw bytes.
      const header = { alg: 'RS256', kid: rsaKey.kid, crit: ['urn:example:ext'], 'urn:example:ext': true };
      const token = signRaw(rsaKey, JSON.stringify(header), JSON.stringify(CLAIMS));

      // Act
      const result = await verifySignature(token, rsaKey.publicKey, 'RS256');

      // Assert
      expect(result).toEqual({ ok: false, reason: 'alg_not_allowed', detail: 'ERR_JOSE_NOT_SUPPORTED' });
    });
  });

  describe('token_malformed', () => {
    it.each([
      ['two segments', () => signingInputOf(rsaToken)],
      ['a header that is not JSON', () => `${b64url('{"alg":')}.${rsaToken.split('.')[1]}.AAAA`],
      ['not a string', () => undefined as unknown as string],
    ])('denies with token_malformed when the token has %s', async (_name, build) => {
      // Act
      const result = await verifySignature(build(), rsaKey.publicKey, 'RS256');

      // Assert
      expect(result).toEqual({ ok: false, reason: 'token_malformed', detail: 'ERR_JWS_INVALID' });
    });
  });

  describe('internal_error', () => {
    it('denies with internal_error for an RSA key under 2048 bits (jose throws TypeError)', async () => {
      // Arrange: jose will not sign with a short key either, so sign with node:crypto directly.
      const weakKey = await makeKey('RS256', 'weak', 1024);
      const token = signRaw(weakKey, JSON.stringify({ alg: 'RS256', kid: 'weak' }), JSON.stringify(CLAIMS));

      // Act
      const result = await verifySignature(token, weakKey.publicKey, 'RS256');

      // Assert
      expect(result).toEqual({ ok: false, reason: 'internal_error', detail: 'TypeError' });
    });

    it('denies with internal_error for a byte-string key with an asymmetric alg', async () => {
      // Act
      const result = await verifySignature(rsaToken, new Uint8Array(32), 'RS256');

      // Assert
      expect(result).toEqual({ ok: false, reason: 'internal_error', detail: 'TypeError' });
    });
  });

  it('never reports jose messages or token data in the detail', async () => {
    // Arrange
    const cases: Array<Promise<Awaited<ReturnType<typeof verifySignature>>>> = [
      verifySignature(`${signingInputOf(rsaToken)}.${b64url('x')}`, rsaKey.publicKey, 'RS256'),
      verifySignature(rsaToken, ecKey.publicKey, 'ES256'),
      verifySignature(rsaToken, new Uint8Array(1), 'RS256'),
      verifySignature('x.y', rsaKey.publicKey, 'RS256'),
    ];

    // Act
    const results = await Promise.all(cases);

    // Assert
    for (const result of results) {
      expect(result.ok).toBe(false);
      expect(result.ok ? '' : result.detail).toMatch(SAFE_DETAIL);
    }
  });
});
