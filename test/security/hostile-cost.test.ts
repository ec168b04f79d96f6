/**
 * The cost of unauthenticated input (rows 14, 15, 17, 43 of test/security/catalogue.test.ts): oversized
 * tokens, megabytes of dots, huge or deeply nested headers and payloads stop before any key lookup or
 * signature check, above the size cap before any JSON parse. This file asserts where;
 * bench/hostile-input.ts measures how fast.
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AuthorizeDeps, authorize } from '../../src/core/authorize.ts';
import { createDeadline } from '../../src/core/kernel/deadline.ts';
import type { KeyStore } from '../../src/core/keys/key-store.ts';
import { MAX_TOKEN_LENGTH } from '../../src/core/kernel/limits.ts';
import { inspectToken } from '../../src/core/token/inspect-token.ts';
import { makeKey } from '../support/keys.ts';
import { DS, loadedConfig } from '../support/security-pipeline.ts';
import { signBytes } from '../support/hostile-tokens.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const S = NOW / 1000;
const ISS = 'https://idp.example.org';
const key = await makeKey('RS256', 'cost-rs');
const claims = JSON.stringify({ iss: ISS, sub: 's', aud: 'api', iat: S - 10, exp: S + 600 });
const header = (extra = '') => `{"alg":"RS256","kid":"cost-rs"${extra}}`;
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const members = (count: number) => Array.from({ length: count }, (_, i) => `,"m${i}":0`).join('');

/** Each hostile input, where it must stop, and whether it is over the size cap (no decoding at all). */
const INPUTS: [string, () => string, string, boolean][] = [
  [
    'a validly signed 4 MB token',
    () => signBytes(key, header(), `{"pad":"${'x'.repeat(4_000_000)}"}`),
    'token_too_large',
    true,
  ],
  ['5 MB of dots (CVE-2025-30204 shape)', () => '.'.repeat(5_000_000), 'token_too_large', true],
  [
    'a 1.9 MB header with 100k members',
    () => signBytes(key, header(members(100_000)), claims),
    'token_too_large',
    true,
  ],
  [
    'an 800 KB nested header',
    () => signBytes(key, header(`,"x":${nested(400_000)}`), claims),
    'token_too_large',
    true,
  ],
  ['a 16 KiB run of dots under the cap', () => '.'.repeat(MAX_TOKEN_LENGTH), 'token_malformed', false],
  ['16 KiB of base64url without dots', () => 'A'.repeat(MAX_TOKEN_LENGTH), 'token_malformed', false],
  [
    'a header with 65 members under the cap',
    () => signBytes(key, header(members(63)), claims),
    'token_too_large',
    false,
  ],
  [
    'a header nested 3000 deep under the cap',
    () => signBytes(key, header(`,"x":${nested(3000)}`), claims),
    'token_too_large',
    false,
  ],
  [
    'a payload nested 5000 deep under the cap',
    () => signBytes(key, header(), `{"x":${nested(5000)}}`),
    'claims_invalid',
    false,
  ],
];

function spyingDeps(): {
  deps: AuthorizeDeps;
  getKey: ReturnType<typeof vi.fn>;
  peekKey: ReturnType<typeof vi.fn>;
} {
  const getKey = vi.fn(() => Promise.reject(new Error('the key store must not be consulted')));
  const peekKey = vi.fn(() => undefined);
  const keys = {
    getKey,
    peekKey,
    prefetch: vi.fn(),
    snapshot: vi.fn(),
    idle: vi.fn(),
    clear: vi.fn(),
  } as unknown as KeyStore;
  const config = loadedConfig({
    issuers: [{ issuer: ISS, jwksUri: `${ISS}/jwks`, audience: 'api' }],
    rules: [{ name: 'r', claims: { scope: 'read' }, roleArn: 'arn:aws:iam::111122223333:role/R' }],
  });
  return { deps: { config: { load: () => Promise.resolve(config) }, keys, now: () => NOW }, getKey, peekKey };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('hostile input is rejected before expensive work', () => {
  it.each(INPUTS)('stops %s before any key lookup or signature check', async (_name, make, reason) => {
    // Arrange
    const token = make();
    const { deps, getKey, peekKey } = spyingDeps();
    // jose verifies through WebCrypto, looked up on the global `crypto` at call time.
    const verify = vi.spyOn(globalThis.crypto.subtle, 'verify');

    // Act
    const { decision } = await authorize(
      { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: token },
      deps,
      createDeadline(10_000),
    );

    // Assert
    expect(decision.reason).toBe(reason);
    expect(getKey).not.toHaveBeenCalled();
    expect(peekKey).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
  });

  it.each(INPUTS.filter(([, , , overCap]) => overCap))(
    'rejects %s by its length alone, without parsing any JSON',
    (_name, make) => {
      // Arrange
      const token = make();
      const parse = vi.spyOn(JSON, 'parse');
      const decode = vi.spyOn(Buffer, 'from');

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_too_large' });
      expect(parse).not.toHaveBeenCalled();
      expect(decode).not.toHaveBeenCalled();
    },
  );

  it('keeps the payload limit separate from the header limit (depth 16 is accepted in claims)', () => {
    // Arrange
    const token = signBytes(key, header(), `{"iss":"${ISS}","x":${nested(15)}}`);

    // Act
    const result = inspectToken(token);

    // Assert
    expect(result.ok).toBe(true);
  });

  it('has no header cap of its own beyond the token cap (a 10 KB kid is kid_invalid, not too large)', () => {
    // Arrange
    const token = signBytes(key, `{"alg":"RS256","kid":"${'k'.repeat(10_000)}"}`, claims);

    // Act
    const result = inspectToken(token);

    // Assert
    expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(result).toMatchObject({ ok: false, reason: 'kid_invalid' });
  });
});
