/**
 * Wycheproof signature-primitive vectors (ECDSA P-256, RSASSA-PKCS1-v1_5, RSASSA-PSS, Ed25519) through
 * the whole authorize() pipeline, each as an access token whose signature segment is the vector's sig.
 * Pass 1 verifies it against the vector's own message; pass 2 against the token's signing input, where
 * every vector must be denied (CVE-2022-21449, "psychic signatures").
 */

import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { AuthorizeDeps } from '../../src/core/authorize.ts';
import type { Algorithm } from '../../src/core/kernel/limits.ts';
import { b64url } from '../support/keys.ts';
import { hygieneProblems } from '../support/log-hygiene.ts';
import { auditLine, decide, pipelineDeps } from '../support/security-pipeline.ts';
import { minted, mintedTokens } from '../support/hostile-tokens.ts';
import {
  countTests,
  type Jwk,
  loadVectors,
  type SignatureGroup,
  type SignatureTest,
} from '../support/wycheproof.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const ISS = 'https://wycheproof.example.org';
const AUD = 'https://dicomweb.example.org';
const ROLE = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';

interface VectorFileSpec {
  file: string;
  declaredTests: number;
  algs: readonly Algorithm[];
  /** The public key of a group as a JWK (kty and key members only). */
  jwk(group: SignatureGroup): Jwk;
}

/** Left-pads or trims a big-endian hex integer to `length` bytes, as base64url (EC coordinates). */
const coordinate = (hex: string, length: number): string =>
  b64url(Buffer.from(hex.padStart(length * 2, '0').slice(-length * 2), 'hex'));

const member = (jwk: Jwk | undefined, name: string): unknown => {
  if (jwk === undefined || !Object.hasOwn(jwk, name)) throw new Error(`vector key has no ${name}`);
  return jwk[name];
};

const FILES: VectorFileSpec[] = [
  {
    file: 'ecdsa_secp256r1_sha256_p1363_test.json',
    declaredTests: 262,
    algs: ['ES256'],
    // A few groups carry only the uncompressed point; the JWK is built from its coordinates.
    jwk: (group) =>
      group.publicKeyJwk
        ? { kty: 'EC', crv: 'P-256', x: member(group.publicKeyJwk, 'x'), y: member(group.publicKeyJwk, 'y') }
        : {
            kty: 'EC',
            crv: 'P-256',
            x: coordinate(group.publicKey?.wx ?? '', 32),
            y: coordinate(group.publicKey?.wy ?? '', 32),
          },
  },
  {
    file: 'rsa_signature_2048_sha256_test.json',
    declaredTests: 259,
    algs: ['RS256'],
    jwk: (group) => ({ kty: 'RSA', n: member(group.keyJwk, 'n'), e: member(group.keyJwk, 'e') }),
  },
  {
    file: 'rsa_pss_2048_sha256_mgf1_32_test.json',
    declaredTests: 108,
    algs: ['PS256'],
    jwk: (group) => ({ kty: 'RSA', n: member(group.publicKeyJwk, 'n'), e: member(group.publicKeyJwk, 'e') }),
  },
  {
    file: 'ed25519_test.json',
    declaredTests: 151,
    // Both JWS names of Ed25519: EdDSA (RFC 8037) and Ed25519 (RFC 9864).
    algs: ['EdDSA', 'Ed25519'],
    jwk: (group) => ({ kty: 'OKP', crv: 'Ed25519', x: member(group.publicKeyJwk, 'x') }),
  },
];

/**
 * Pass 1 substitutes the message: a JWS signs ASCII(b64url(header) '.' b64url(payload)), never the
 * vector's `msg`, so a spy on `crypto.subtle.verify` (the primitive jose calls) swaps in `msg` when the
 * data is exactly this token's signing input, and counts the swap. Everything else is ours, unchanged:
 * grammar, header and issuer checks, key import, signature decoding, algorithm parameters, policy.
 */
const subtle = globalThis.crypto.subtle;
const originalVerify = subtle.verify.bind(subtle);
let substitution: { signingInput: Buffer; msg: Buffer; calls: number } | undefined;
type SubtleVerify = typeof globalThis.crypto.subtle.verify;
let verifySpy: MockInstance<SubtleVerify>;
const auditLines: string[] = [];

/** The data argument of SubtleCrypto.verify, as bytes. */
const asBuffer = (data: Parameters<SubtleVerify>[3]): Buffer =>
  ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

beforeAll(() => {
  // jose verifies through WebCrypto, looked up on the global `crypto` at call time.
  verifySpy = vi.spyOn(subtle, 'verify').mockImplementation((algorithm, key, signature, data) => {
    const swap = substitution;
    if (swap !== undefined && asBuffer(data).equals(swap.signingInput)) {
      swap.calls += 1;
      return originalVerify(algorithm, key, signature, swap.msg);
    }
    return originalVerify(algorithm, key, signature, data);
  });
});

afterAll(() => {
  verifySpy.mockRestore();
});

interface Tally {
  exercised: number;
  byOutcome: Record<string, number>;
  mismatches: string[];
}

/** The claims of a valid access token for this issuer at NOW (the signature is all that varies). */
function claimsSegment(): string {
  const seconds = Math.floor(NOW / 1000);
  return b64url(
    JSON.stringify({
      iss: ISS,
      sub: 'wycheproof',
      aud: AUD,
      scope: 'read',
      iat: seconds - 10,
      exp: seconds + 600,
    }),
  );
}

function depsFor(alg: Algorithm, jwk: Jwk, kid: string): AuthorizeDeps {
  return pipelineDeps({
    nowMs: NOW,
    config: {
      issuers: [{ issuer: ISS, jwksUri: `${ISS}/jwks`, audience: AUD, algorithms: [alg] }],
      rules: [{ name: 'readers', claims: { scope: 'read' }, roleArn: ROLE }],
    },
    jwks: () => ({ keys: [{ ...jwk, kid, alg, use: 'sig' }] }),
  });
}

/** What pass 1 must conclude for a vector: an empty signature fails the strict grammar before any crypto. */
function acceptableOutcomes(test: SignatureTest): readonly string[] {
  if (test.sig === '') return ['token_malformed'];
  if (test.result === 'valid') return ['allowed'];
  if (test.result === 'acceptable') return ['allowed', 'signature_invalid'];
  return ['signature_invalid'];
}

async function runFile(spec: VectorFileSpec, alg: Algorithm, substitute: boolean): Promise<Tally> {
  const vectors = loadVectors<SignatureGroup>(spec.file);
  const tally: Tally = { exercised: 0, byOutcome: {}, mismatches: [] };
  const payload = claimsSegment();
  for (const [index, group] of vectors.testGroups.entries()) {
    const kid = `wycheproof-${index}`;
    const header = b64url(JSON.stringify({ alg, kid, typ: 'at+jwt' }));
    const signingInput = Buffer.from(`${header}.${payload}`);
    const deps = depsFor(alg, spec.jwk(group), kid);
    for (const test of group.tests) {
      const token = minted(`${header}.${payload}.${b64url(Buffer.from(test.sig, 'hex'))}`);
      substitution = substitute ? { signingInput, msg: Buffer.from(test.msg, 'hex'), calls: 0 } : undefined;
      const decision = await decide(deps, token);
      const calls = substitution?.calls;
      substitution = undefined;
      auditLines.push(auditLine(decision, NOW));

      tally.exercised += 1;
      tally.byOutcome[decision.reason] = (tally.byOutcome[decision.reason] ?? 0) + 1;
      const expected = substitute
        ? acceptableOutcomes(test)
        : [test.sig === '' ? 'token_malformed' : 'signature_invalid'];
      const expectedCalls = test.sig === '' ? 0 : 1;
      if (!expected.includes(decision.reason) || (substitute && calls !== expectedCalls)) {
        tally.mismatches.push(
          `tcId ${test.tcId} (${test.result}, ${test.comment}): ${decision.reason}, primitive calls ${calls}`,
        );
      }
    }
  }
  return tally;
}

describe('Wycheproof signature vectors through authorize() as JWS', () => {
  for (const spec of FILES) {
    for (const alg of spec.algs) {
      it(`${spec.file} as ${alg}: every valid vector is allowed and every invalid one denied for the message it names`, async () => {
        // Arrange
        const declared = loadVectors<SignatureGroup>(spec.file);

        // Act
        const tally = await runFile(spec, alg, true);

        // Assert
        expect(tally.mismatches).toEqual([]);
        expect(declared.numberOfTests).toBe(spec.declaredTests);
        expect(tally.exercised).toBe(countTests(declared));
        expect(tally.exercised).toBe(spec.declaredTests);
      });

      it(`${spec.file} as ${alg}: no vector signature verifies for a token it was not made for`, async () => {
        // Act
        const tally = await runFile(spec, alg, false);

        // Assert
        expect(tally.mismatches).toEqual([]);
        expect(tally.byOutcome['allowed']).toBeUndefined();
        expect(tally.exercised).toBe(spec.declaredTests);
      });
    }
  }

  it('denies every CVE-2022-21449 psychic-signature vector (r or s zero or out of range) in both passes', async () => {
    // Arrange: the P1363 vectors flagged InvalidSignature are the r=0 / s=0 / r,s ≥ n cases.
    const spec = FILES[0]!;
    const vectors = loadVectors<SignatureGroup>(spec.file);
    const psychic = vectors.testGroups.flatMap((group) =>
      group.tests.filter((test) => test.flags.includes('InvalidSignature')),
    );
    const zeroR = psychic.filter((test) => /^0+$/.test(test.sig.slice(0, 64)));

    // Act
    const withMessage = await runFile(spec, 'ES256', true);
    const withOwnInput = await runFile(spec, 'ES256', false);

    // Assert
    expect(psychic.length).toBe(49);
    expect(zeroR.length).toBeGreaterThan(0);
    expect(psychic.every((test) => test.result === 'invalid')).toBe(true);
    expect(withMessage.mismatches).toEqual([]);
    expect(withOwnInput.byOutcome['allowed']).toBeUndefined();
  });

  it('writes audit lines with no token segment, control character or unbounded field for any vector', () => {
    // Assert
    expect(auditLines.length).toBeGreaterThan(1000);
    expect(hygieneProblems(auditLines, { secrets: [], tokens: mintedTokens })).toEqual([]);
  });
});
