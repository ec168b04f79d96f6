/**
 * HealthImaging's pre-checks on the unverified payload: exp after now, nbf not after now, iat not
 * in the future and at most 12 hours old; an unreadable token fails them.
 */

import { describe, expect, it } from 'vitest';
import { precheckTokenTimes } from '../../../src/tools/sandbox/precheck-token-times.ts';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const s = (offset: number) => NOW / 1000 + offset;
const token = (payload: unknown) =>
  `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;

describe('precheckTokenTimes', () => {
  it('passes a token inside its lifetime and the 12 h window', () => {
    expect(precheckTokenTimes(token({ iat: s(-60), nbf: s(-60), exp: s(600) }), NOW)).toEqual({ ok: true });
  });

  it.each([
    [{ iat: s(-60), exp: s(-1) }, 'exp is not after now'],
    [{ iat: s(-60) }, 'exp is absent or not a number'],
    [{ iat: s(-60), nbf: s(60), exp: s(600) }, 'nbf is after now'],
    [{ iat: s(60), exp: s(600) }, 'iat is in the future'],
    [{ exp: s(600) }, 'iat is absent or not a number'],
    [{ iat: s(-12 * 3600 - 1), exp: s(600) }, 'iat is more than 12 hours ago'],
  ])('fails %j: %s', (payload, detail) => {
    expect(precheckTokenTimes(token(payload), NOW)).toEqual({ ok: false, detail });
  });

  it('fails a token whose payload is not JSON', () => {
    expect(precheckTokenTimes('a.b.c', NOW)).toEqual({ ok: false, detail: 'not a JWT with a JSON payload' });
  });
});
