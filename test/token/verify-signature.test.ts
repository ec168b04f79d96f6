import { generateKeyPairSync, type KeyObject, sign as nodeSign } from 'node:crypto';
import { fc, it as prop } from '@fast-check/vitest';
import { CompactSign, compactVerify } from 'jose';
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

/** The signing input (header.payload) of a compact token. */
const signingInputOf = (token: string): string => token.split('.').slice(0, 2).join('.');

/** Every alg the configuration allows, with a key pair of the family and curve it names. */
const ALL_ALGS = [
  ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['RS384', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['RS512', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['PS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['PS384', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['PS512', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ['ES384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
  ['ES512', () => generateKeyPairSync('ec', { namedCurve: 'P-521' })],
  ['EdDSA', () => generateKeyPairSync('ed25519')],
  ['Ed25519', () => generateKeyPairSync('ed25519')],
] as const;

const PAIRS = new Map(ALL_ALGS.map(([alg, generate]) => [alg, generate()]));
/** A second key of the same family and curve per alg (generated once: RSA generation is slow). */
const OTHER_PAIRS = new Map(ALL_ALGS.map(([alg, generate]) => [alg, generate()]));
const TOKENS = new Map(
  await Promise.all(
    ALL_ALGS.map(
      async ([alg]) =>
        [
          alg,
          await new CompactSign(new TextEncoder().encode(JSON.stringify(CLAIMS)))
            .setProtectedHeader({ alg, kid: 'k' })
            .sign(PAIRS.get(alg)!.privateKey),
        ] as const,
    ),
  ),
);

/** jose, the reference implementation: does it accept this token with this key and alg? */
async function joseAccepts(token: string, key: KeyObject, alg: string): Promise<boolean> {
  try {
    await compactVerify(token, key, { algorithms: [alg] });
    return true;
  } catch {
    return false;
  }
}

describe('verifySignature', () => {
  it.each(ALL_ALGS.map(([alg]) => alg))('accepts a %s token signed by the matching key', (alg) => {
    // Act
    const result = verifySignature(TOKENS.get(alg)!, PAIRS.get(alg)!.publicKey, alg);

    // Assert
    expect(result).toEqual({ ok: true });
  });

  it.each(['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'] as TestAlg[])(
    'accepts a %s token minted by the shared test helpers',
    async (alg) => {
      // Arrange
      const key = await makeKey(alg);
      const token = await signToken(key, CLAIMS);

      // Act
      const result = verifySignature(token, key.publicKey, alg);

      // Assert
      expect(result).toEqual({ ok: true });
    },
  );

  describe('agrees with jose (the reference) on every outcome', () => {
    /** Ways a token can be altered in transit or by an attacker; each must be judged as jose judges it. */
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('none' as const) }),
      fc.record({
        kind: fc.constant('flip' as const),
        segment: fc.integer({ min: 0, max: 2 }),
        at: fc.nat(),
        bit: fc.integer({ min: 0, max: 7 }),
      }),
      fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
      fc.record({
        kind: fc.constant('extend' as const),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
      }),
      fc.record({ kind: fc.constant('zero' as const) }),
      fc.record({ kind: fc.constant('otherKey' as const) }),
    );
    const algs = fc.constantFrom(...ALL_ALGS.map(([alg]) => alg));

    prop.prop([algs, algs, mutation], { numRuns: 400 })(
      'accepts exactly when jose accepts (alg of the key, alg asked, mutation)',
      async (signedWith, askedFor, change) => {
        // Arrange
        const [header = '', payload = '', signature = ''] = TOKENS.get(signedWith)!.split('.');
        const segments = [header, payload, signature].map((segment) => Buffer.from(segment, 'base64url'));
        let key = PAIRS.get(askedFor)!.publicKey;
        if (change.kind === 'flip') {
          const target = segments[change.segment]!;
          if (target.length > 0) target[change.at % target.length]! ^= 1 << change.bit;
        } else if (change.kind === 'truncate') {
          segments[2] = segments[2]!.subarray(0, change.keep % segments[2]!.length);
        } else if (change.kind === 'extend') {
          segments[2] = Buffer.concat([segments[2]!, change.bytes]);
        } else if (change.kind === 'zero') {
          segments[2] = Buffer.alloc(segments[2]!.length);
        } else if (change.kind === 'otherKey') {
          key = OTHER_PAIRS.get(askedFor)!.publicKey;
        }
        const token = segments.map((segment) => segment.toString('base64url')).join('.');

        // Act
        const ours = verifySignature(token, key, askedFor);

        // Assert
        expect(ours.ok).toBe(await joseAccepts(token, key, askedFor));
        if (!ours.ok)
          expect(['signature_invalid', 'internal_error', 'token_malformed']).toContain(ours.reason);
      },
    );
  });

  describe('signature_invalid', () => {
    it('denies with signature_invalid when another key of the same type signed the token (row 56)', async () => {
      // Arrange
      const otherKey = await makeKey('RS256', 'rsa-1');
      const token = await signToken(otherKey, CLAIMS);

      // Act
      const result = verifySignature(token, rsaKey.publicKey, 'RS256');

      // Assert
      expect(result).toEqual({
        ok: false,
        reason: 'signature_invalid',
        detail: 'the signature does not verify with the selected key',
      });
    });

    it('denies with signature_invalid when the payload was swapped after signing', () => {
      // Arrange
      const [header, , signature] = rsaToken.split('.');
      const payload = b64url(JSON.stringify({ ...CLAIMS, sub: 'admin' }));

      // Act
      const result = verifySignature(`${header}.${payload}.${signature}`, rsaKey.publicKey, 'RS256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'signature_invalid' });
    });

    it.each([
      ['r=0, s=0 (CVE-2022-21449 "psychic signature")', new Uint8Array(64)],
      ['r=0, s=1', Uint8Array.from({ length: 64 }, (_, i) => (i === 63 ? 1 : 0))],
      ['empty (row 21, null signature)', new Uint8Array(0)],
      ['one byte short', new Uint8Array(63).fill(1)],
    ])('row 23: denies with signature_invalid for an ES256 signature that is %s', (_name, signature) => {
      // Arrange
      const token = `${signingInputOf(ecToken)}.${b64url(signature)}`;

      // Act
      const result = verifySignature(token, ecKey.publicKey, 'ES256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'signature_invalid' });
    });

    it('row 24: denies with signature_invalid for a valid ES256 signature in DER instead of P1363', () => {
      // Arrange
      const input = signingInputOf(ecToken);
      const der = nodeSign('sha256', Buffer.from(input), ecKey.privateKey);

      // Act
      const result = verifySignature(`${input}.${b64url(der)}`, ecKey.publicKey, 'ES256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'signature_invalid' });
    });

    it('denies an RS256 signature checked as PS256 (the alg decides the padding, not the key)', () => {
      // Act
      const result = verifySignature(rsaToken, rsaKey.publicKey, 'PS256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'signature_invalid' });
    });

    it('denies a token whose header is not JSON: the signature covers the bytes as received', () => {
      // Arrange
      const token = `${b64url('{"alg":')}.${rsaToken.split('.')[1]}.${rsaToken.split('.')[2]}`;

      // Act
      const result = verifySignature(token, rsaKey.publicKey, 'RS256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'signature_invalid' });
    });
  });

  describe('alg_not_allowed', () => {
    it('row 20: denies with alg_not_allowed for HS256 signed with the RSA public key as secret', async () => {
      // Arrange: the classic key-confusion token, correctly MACed with the public key's PEM bytes.
      const secret = Buffer.from(rsaKey.publicKey.export({ type: 'spki', format: 'pem' }));
      const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(CLAIMS)))
        .setProtectedHeader({ alg: 'HS256', kid: rsaKey.kid })
        .sign(secret);

      // Act
      const result = verifySignature(token, rsaKey.publicKey, 'HS256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
    });

    it.each(['none', 'HS256', 'Ed448', '', 'rs256', '__proto__', 'constructor'])(
      'denies with alg_not_allowed when asked to verify with %j',
      (alg) => {
        // Act
        const result = verifySignature(rsaToken, rsaKey.publicKey, alg);

        // Assert
        expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
      },
    );
  });

  describe('token_malformed', () => {
    it.each([
      ['two segments', () => signingInputOf(rsaToken)],
      ['not a string', () => undefined as unknown as string],
    ])('denies with token_malformed when the token has %s', (_name, build) => {
      // Act
      const result = verifySignature(build(), rsaKey.publicKey, 'RS256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_malformed' });
    });
  });

  describe('internal_error: the selected key cannot serve this alg (a caller bug, never a pass)', () => {
    it('denies an RSA key under 2048 bits', async () => {
      // Arrange
      const weakKey = await makeKey('RS256', 'weak', 1024);
      const token = signRaw(weakKey, JSON.stringify({ alg: 'RS256', kid: 'weak' }), JSON.stringify(CLAIMS));

      // Act
      const result = verifySignature(token, weakKey.publicKey, 'RS256');

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'internal_error' });
    });

    it.each([
      ['an RSA key for ES256', () => rsaKey.publicKey, 'ES256'],
      ['a P-384 key for ES256', () => PAIRS.get('ES384')!.publicKey, 'ES256'],
      ['a P-256 key for ES512', () => ecKey.publicKey, 'ES512'],
      ['an Ed25519 key for RS256', () => PAIRS.get('EdDSA')!.publicKey, 'RS256'],
      ['a private key', () => rsaKey.privateKey, 'RS256'],
      ['a byte string', () => new Uint8Array(32) as unknown as KeyObject, 'RS256'],
    ])('denies %s', (_name, key, alg) => {
      // Act
      const result = verifySignature(rsaToken, key(), alg);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'internal_error' });
    });
  });

  it('never reports token data in the detail', () => {
    // Arrange
    const results = [
      verifySignature(`${signingInputOf(rsaToken)}.${b64url('x')}`, rsaKey.publicKey, 'RS256'),
      verifySignature(rsaToken, ecKey.publicKey, 'ES256'),
      verifySignature(rsaToken, new Uint8Array(1) as unknown as KeyObject, 'RS256'),
      verifySignature('x.y', rsaKey.publicKey, 'RS256'),
    ];

    // Assert
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (!result.ok) {
        for (const segment of rsaToken.split('.')) expect(result.detail).not.toContain(segment.slice(0, 12));
        expect(result.detail).toMatch(/^[a-z0-9 ,()-]+$/i);
      }
    }
  });
});
