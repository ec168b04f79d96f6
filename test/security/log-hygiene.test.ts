/**
 * The log-hygiene checker used by every security test file must itself catch each kind of leak,
 * or the "no problems" assertions elsewhere would prove nothing.
 */

import { describe, expect, it } from 'vitest';
import { hygieneProblems } from '../support/log-hygiene.ts';

const TOKEN =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVzLXRoYXQtYXJlLWxvbmctZW5vdWdo';
const clean = JSON.stringify({ level: 'INFO', reason: 'kid_unknown', kid: 'k-1', sub: 'a7c1e0d2' });

describe('hygieneProblems', () => {
  it('finds nothing in a clean audit line', () => {
    // Act / Assert
    expect(hygieneProblems([clean], { secrets: ['Janet'], tokens: [TOKEN] })).toEqual([]);
  });

  it.each([
    ['a JWT header segment', JSON.stringify({ kid: 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ' })],
    [
      'a signature segment of a minted token',
      JSON.stringify({ note: 'c2lnbmF0dXJlLWJ5dGVzLXRoYXQtYXJlLWxvbmctZW5vdWdo' }),
    ],
    ['a personal claim value', JSON.stringify({ sub: 'Janet' })],
    ['a raw carriage return', `${clean}\r`],
    ['a raw ANSI escape', `{"kid":"\u001b[31m"}`],
    ['an escaped ANSI escape that decodes to one', JSON.stringify({ kid: '\u001b[31mred' })],
    ['an escaped bidi override', JSON.stringify({ iss: 'https://a\u202eb' })],
    ['an unbounded field', JSON.stringify({ sub: 's'.repeat(600) })],
    [
      'an overlong line',
      JSON.stringify({ a: 'x'.repeat(500), b: 'y'.repeat(500), c: 'z'.repeat(500), d: 'w'.repeat(3000) }),
    ],
    ['a line that is not JSON', 'authorization decision: deny'],
  ])('reports %s', (_name, line) => {
    // Act
    const problems = hygieneProblems([line], { secrets: ['Janet'], tokens: [TOKEN] });

    // Assert
    expect(problems.length).toBeGreaterThan(0);
  });
});
