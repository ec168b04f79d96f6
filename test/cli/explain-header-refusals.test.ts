/**
 * `explain` on tokens whose JOSE header is refused: each refusal names the offending value (shown
 * sanitized next to the check, from what the header carried) and the rule it breaks, instead of
 * reporting the header as empty. The refusal details themselves never carry token bytes
 * (test/token/inspect-token.test.ts), so the value comes only from the display path.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/tools/cli/run-cli.ts';
import { fakeIo } from '../support/fake-io.ts';
import {
  ENTRA_V1,
  entraAppPayload,
  entraConfig,
  makeSeedKeys,
  NOW_ISO,
  type SeedFiles,
  type SeedKeys,
  writeSeedFiles,
} from '../support/fixtures/seed-tokens.ts';
import { b64url } from '../support/keys.ts';

let keys: SeedKeys;
let files: SeedFiles;
let config: string;

beforeAll(async () => {
  keys = await makeSeedKeys();
  files = await writeSeedFiles(keys);
  config = await files.config('config.json', entraConfig());
});

afterAll(async () => {
  await files?.remove();
});

/** A token with any header: the signature bytes do not matter, the header is refused first. */
function tokenWithHeader(header: Record<string, unknown>): string {
  const payload = { ...entraAppPayload(), iss: ENTRA_V1 };
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.c2lnbmF0dXJl`;
}

async function explainHeader(header: Record<string, unknown>): Promise<{ code: number; headerLine: string }> {
  const io = fakeIo({ stdin: tokenWithHeader(header) });
  const code = await runCli(
    [
      'explain',
      '--config',
      config,
      '--jwks',
      files.jwks,
      '--now',
      NOW_ISO,
      '--operation',
      'GetDICOMInstance',
    ],
    io,
  );
  return { code, headerLine: io.out.split('\n').find((line) => line.includes('] header')) ?? '' };
}

describe('explain on a refused header', () => {
  it.each([
    [
      'an HMAC alg',
      { alg: 'HS256', typ: 'JWT', kid: 'k1' },
      /alg is refused: a shared-secret \(HMAC\) algorithm is never accepted.*\(alg "HS256" · kid "k1" · typ "JWT"\)/,
    ],
    [
      'alg none',
      { alg: 'none', kid: 'k1' },
      /alg is refused: an unsigned token is never accepted.*\(alg "none"/,
    ],
    [
      'an alg in the wrong case',
      { alg: 'rs256', kid: 'k1' },
      /alg is refused: algorithm names are case-sensitive, and it differs from RS256 only in case \(alg "rs256"/,
    ],
    [
      'no alg',
      { kid: 'k1' },
      /the header has no alg: a JWS must name its algorithm.*\(alg absent · kid "k1"/,
    ],
    ['a numeric alg', { alg: 256, kid: 'k1' }, /alg is a number, not a string naming a JWS algorithm/],
    [
      'a key URL',
      { alg: 'RS256', kid: 'k1', jku: 'https://attacker.example/jwks' },
      /the header carries jku: keys are never fetched from a URL the token names.*\(alg "RS256" · kid "k1"/,
    ],
    [
      'no kid',
      { alg: 'RS256' },
      /the header has no kid: keys are looked up by kid, never tried in turn \(alg "RS256" · kid absent/,
    ],
  ])('names the value and the rule for %s', async (_name, header, expected) => {
    // Act
    const { code, headerLine } = await explainHeader(header);

    // Assert
    expect(code).toBe(1);
    expect(headerLine).toMatch(/\[XX\] header/);
    expect(headerLine).toMatch(expected);
  });

  it('shows a hostile header value only as sanitized, length-capped text', async () => {
    // Act
    const { headerLine } = await explainHeader({ alg: 'HS256\u001b[31mEVIL', kid: 'k1' });

    // Assert
    expect(headerLine).not.toContain('\u001b');
    expect(headerLine).toContain('alg "HS256?[31mEVIL"');
  });
});
