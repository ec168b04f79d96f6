/**
 * verifySignature (jose compactVerify over the key store) and the jose error table.
 * Row numbers are the cases of the hostile-input catalogue, test/security/catalogue.test.ts.
 */

import { generateKeyPairSync, type KeyObject, sign as nodeSign } from 'node:crypto';
import { fc, it as prop } from '@fast-check/vitest';
import { CompactSign, type CryptoKey, errors, exportJWK, importJWK } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { reasonForJoseError } from '../../src/core/token/jose-error-reason.ts';
import { type ResolveKey, verifySignature } from '../../src/core/token/verify-signature.ts';
import { b64url, epoch, makeKey, signRaw, signToken, type TestAlg } from '../support/keys.ts';

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

/** A resolver that always hands out this key (the key store's role in production). */
const always =
  (key: CryptoKey): ResolveKey =>
  () =>
    Promise.resolve(key);

/** The public half of a node:crypto pair, imported by jose for `alg` (as the key store does). */
const importPublic = async (key: KeyObject, alg: string): Promise<CryptoKey> =>
  (await importJWK(await exportJWK(key), alg)) as CryptoKey;

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
type Alg = (typeof ALL_ALGS)[number][0];

const PAIRS = new Map(ALL_ALGS.map(([alg, generate]) => [alg, generate()]));
/** A second key of the same family and curve per alg (generated once: RSA generation is slow). */
const OTHER_PAIRS = new Map(ALL_ALGS.map(([alg, generate]) => [alg, generate()]));
const VERIFY_KEYS = new Map(
  await Promise.all(
    ALL_ALGS.map(async ([alg]) => [alg, await importPublic(PAIRS.get(alg)!.publicKey, alg)] as const),
  ),
);
const OTHER_VERIFY_KEYS = new Map(
  await Promise.all(
    ALL_ALGS.map(async ([alg]) => [alg, await importPublic(OTHER_PAIRS.get(alg)!.publicKey, alg)] as const),
  ),
);
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

describe('verifySignature (jose compactVerify over the key store)', () => {
  it.each(ALL_ALGS.map(([alg]) => alg))('accepts a %s token signed by the matching key', async (alg) => {
    // Act
    const result = await verifySignature(TOKENS.get(alg)!, alg, always(VERIFY_KEYS.get(alg)!));

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
      const result = await verifySignature(token, alg, always(key.verifyKey));

      // Assert
      expect(result).toEqual({ ok: true });
    },
  );

  it('asks the resolver once, for the kid and alg of the header jose parsed', async () => {
    // Arrange
    const resolve = vi.fn<ResolveKey>(() => Promise.resolve(rsaKey.verifyKey));

    // Act
    const result = await verifySignature(rsaToken, 'RS256', resolve);

    // Assert
    expect(result).toEqual({ ok: true });
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(resolve).toHaveBeenCalledWith('rsa-1', 'RS256');
  });

  it('takes a key the resolver gives at once, without a promise (a warm key store)', async () => {
    // Act
    const result = await verifySignature(rsaToken, 'RS256', () => rsaKey.verifyKey);

    // Assert
    expect(result).toEqual({ ok: true });
  });

  it('takes a refusal the resolver gives at once', async () => {
    // Act
    const result = await verifySignature(rsaToken, 'RS256', () => ({
      reason: 'kid_unknown',
      detail: 'no key',
    }));

    // Assert
    expect(result).toEqual({ ok: false, step: 'key', reason: 'kid_unknown', detail: 'no key' });
  });

  describe('key refusals become the key step, with the store reason', () => {
    it.each([
      ['kid_unknown', 'no key with this kid'],
      ['jwks_ambiguous_key', 'two or more keys share this kid'],
      ['idp_unavailable', 'backing off after a failed fetch'],
    ] as const)('denies with %s when the key store refuses', async (reason, detail) => {
      // Act
      const result = await verifySignature(rsaToken, 'RS256', () => Promise.resolve({ reason, detail }));

      // Assert
      expect(result).toEqual({ ok: false, step: 'key', reason, detail });
    });

    it('denies with kid_invalid without asking the store when the header has no kid', async () => {
      // Arrange
      const token = signRaw(rsaKey, JSON.stringify({ alg: 'RS256' }), JSON.stringify(CLAIMS));
      const resolve = vi.fn<ResolveKey>(() => Promise.resolve(rsaKey.verifyKey));

      // Act
      const result = await verifySignature(token, 'RS256', resolve);

      // Assert
      expect(result).toMatchObject({ ok: false, step: 'key', reason: 'kid_invalid' });
      expect(resolve).not.toHaveBeenCalled();
    });
  });

  describe('every outcome of a mutated token (property)', () => {
    /** Ways a token can be altered in transit or by an attacker. */
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
      'accepts only the unaltered token under its own alg and key; denies anything else with a reason',
      async (signedWith: Alg, askedFor: Alg, change) => {
        // Arrange
        const original = TOKENS.get(signedWith)!;
        const [header = '', payload = '', signature = ''] = original.split('.');
        const segments = [header, payload, signature].map((segment) => Buffer.from(segment, 'base64url'));
        let key = VERIFY_KEYS.get(askedFor)!;
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
          key = OTHER_VERIFY_KEYS.get(askedFor)!;
        }
        const token = segments.map((segment) => segment.toString('base64url')).join('.');
        const untouched = token === original && change.kind !== 'otherKey' && signedWith === askedFor;

        // Act
        const result = await verifySignature(token, askedFor, always(key));

        // Assert
        expect(result.ok).toBe(untouched);
        if (!result.ok) {
          // A header flip may also rename `kid` (kid_invalid) or break the JSON (token_malformed).
          expect([
            'signature_invalid',
            'alg_not_allowed',
            'token_malformed',
            'kid_invalid',
            'internal_error',
          ]).toContain(result.reason);
        }
      },
    );
  });

  describe('signature_invalid', () => {
    it('denies with signature_invalid when another key of the same type signed the token (row 56)', async () => {
      // Arrange
      const otherKey = await makeKey('RS256', 'rsa-1');
      const token = await signToken(otherKey, CLAIMS);

      // Act
      const result = await verifySignature(token, 'RS256', always(rsaKey.verifyKey));

      // Assert
      expect(result).toEqual({
        ok: false,
        step: 'signature',
        reason: 'signature_invalid',
        detail: 'the signature does not verify with the selected key',
      });
    });

    it('denies with signature_invalid when the payload was swapped after signing', async () => {
      // Arrange
      const [header, , signature] = rsaToken.split('.');
      const payload = b64url(JSON.stringify({ ...CLAIMS, sub: 'admin' }));

      // Act
      const result = await verifySignature(
        `${header}.${payload}.${signature}`,
        'RS256',
        always(rsaKey.verifyKey),
      );

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
        const result = await verifySignature(token, 'ES256', always(ecKey.verifyKey));

        // Assert
        expect(result).toMatchObject({ ok: false, reason: 'signature_invalid' });
      },
    );

    it('row 24: denies with signature_invalid for a valid ES256 signature in DER instead of P1363', async () => {
      // Arrange
      const input = signingInputOf(ecToken);
      const der = nodeSign('sha256', Buffer.from(input), ecKey.privateKey);

      // Act
      const result = await verifySignature(`${input}.${b64url(der)}`, 'ES256', always(ecKey.verifyKey));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'signature_invalid' });
    });

    it('denies an RS256 signature relabelled PS256 (the alg decides the padding, not the key)', async () => {
      // Arrange: the same signature bytes under a header that says PS256.
      const [, payload, signature] = rsaToken.split('.');
      const token = `${b64url(JSON.stringify({ alg: 'PS256', kid: 'rsa-1' }))}.${payload}.${signature}`;

      // Act
      const result = await verifySignature(
        token,
        'PS256',
        always(await importPublic(rsaKey.publicKey, 'PS256')),
      );

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
      const resolve = vi.fn<ResolveKey>(() => Promise.resolve(rsaKey.verifyKey));

      // Act
      const result = await verifySignature(token, 'HS256', resolve);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
      expect(resolve).not.toHaveBeenCalled();
    });

    it.each(['none', 'HS256', 'Ed448', '', 'rs256', '__proto__', 'constructor'])(
      'denies with alg_not_allowed when asked to verify with %j',
      async (alg) => {
        // Act
        const result = await verifySignature(rsaToken, alg, always(rsaKey.verifyKey));

        // Assert
        expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
      },
    );

    it('denies with alg_not_allowed, before any key lookup, when the header alg is not the pinned one', async () => {
      // Arrange
      const resolve = vi.fn<ResolveKey>(() => Promise.resolve(rsaKey.verifyKey));

      // Act
      const result = await verifySignature(rsaToken, 'PS256', resolve);

      // Assert
      expect(result).toMatchObject({ ok: false, step: 'signature', reason: 'alg_not_allowed' });
      expect(resolve).not.toHaveBeenCalled();
    });
  });

  describe('token_malformed', () => {
    it.each([
      ['two segments', () => signingInputOf(rsaToken)],
      ['not a string', () => undefined as unknown as string],
    ])('denies with token_malformed when the token has %s', async (_name, build) => {
      // Act
      const result = await verifySignature(build(), 'RS256', always(rsaKey.verifyKey));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_malformed' });
    });
  });

  describe('internal_error: the resolved key cannot serve this alg (a caller bug, never a pass)', () => {
    it('denies an RSA key under 2048 bits', async () => {
      // Arrange
      const weakKey = await makeKey('RS256', 'weak', 1024);
      const token = signRaw(weakKey, JSON.stringify({ alg: 'RS256', kid: 'weak' }), JSON.stringify(CLAIMS));

      // Act
      const result = await verifySignature(token, 'RS256', always(weakKey.verifyKey));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'internal_error' });
    });

    it.each([
      ['an RSA key for ES256', 'ES256', () => VERIFY_KEYS.get('RS256')!],
      ['a P-384 key for ES256', 'ES256', () => VERIFY_KEYS.get('ES384')!],
      ['a P-256 key for ES512', 'ES512', () => VERIFY_KEYS.get('ES256')!],
      ['an Ed25519 key for RS256', 'RS256', () => VERIFY_KEYS.get('EdDSA')!],
      ['an RS256 key for PS256', 'PS256', () => VERIFY_KEYS.get('RS256')!],
    ] as const)('denies %s', async (_name, alg, key) => {
      // Act
      const result = await verifySignature(TOKENS.get(alg)!, alg, always(key()));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'internal_error' });
    });

    it('denies a private key', async () => {
      // Arrange
      const privateJwk = await exportJWK(PAIRS.get('RS256')!.privateKey);
      const privateKey = (await importJWK(privateJwk, 'RS256')) as CryptoKey;

      // Act
      const result = await verifySignature(TOKENS.get('RS256')!, 'RS256', always(privateKey));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'internal_error' });
    });
  });

  it('never reports token data or a jose message in the detail', async () => {
    // Arrange
    const results = await Promise.all([
      verifySignature(`${signingInputOf(rsaToken)}.${b64url('x')}`, 'RS256', always(rsaKey.verifyKey)),
      verifySignature(rsaToken, 'RS256', always(ecKey.verifyKey)),
      verifySignature('x.y', 'RS256', always(rsaKey.verifyKey)),
      verifySignature(`${b64url('{"alg":')}.${rsaToken.split('.')[1]}.x`, 'RS256', always(rsaKey.verifyKey)),
    ]);

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

describe('reasonForJoseError (the one place jose errors become reasons)', () => {
  it.each([
    [new errors.JWSSignatureVerificationFailed(), 'signature_invalid'],
    [new errors.JOSEAlgNotAllowed('x'), 'alg_not_allowed'],
    [new errors.JOSENotSupported('x'), 'alg_not_allowed'],
    [new errors.JWSInvalid('x'), 'token_malformed'],
    [new errors.JWEInvalid('x'), 'token_malformed'],
    [new errors.JWEDecryptionFailed(), 'token_malformed'],
    [new errors.JWTInvalid('x'), 'claims_invalid'],
    [new errors.JWTClaimValidationFailed('x', { email: 'a@b.example' }, 'aud'), 'claims_invalid'],
    [new errors.JWTExpired('x', { email: 'a@b.example' }, 'exp'), 'token_expired'],
    [new errors.JWKInvalid('x'), 'kid_unknown'],
    [new errors.JWKSInvalid('x'), 'idp_unavailable'],
    [new errors.JWKSNoMatchingKey(), 'kid_unknown'],
    [new errors.JWKSMultipleMatchingKeys(), 'jwks_ambiguous_key'],
    [new errors.JWKSTimeout(), 'idp_unavailable'],
    [new errors.JOSEError('x'), 'internal_error'],
    [new TypeError('CryptoKey does not support this operation'), 'internal_error'],
    [new RangeError('Maximum call stack size exceeded'), 'internal_error'],
    ['a string', 'internal_error'],
    [undefined, 'internal_error'],
  ] as const)('maps %o to %s', (error, reason) => {
    // Act
    const mapped = reasonForJoseError(error);

    // Assert
    expect(mapped.reason).toBe(reason);
    // Fixed text only: never jose's message or the payload a claim error carries.
    expect(mapped.detail).not.toMatch(/@|\bx\b/);
  });

  it('maps a code jose might add later to internal_error, not to a pass', () => {
    // Arrange
    const future = new errors.JOSEError('x');
    Object.defineProperty(future, 'code', { value: 'ERR_JOSE_SOMETHING_NEW' });

    // Act / Assert
    expect(reasonForJoseError(future).reason).toBe('internal_error');
  });
});
