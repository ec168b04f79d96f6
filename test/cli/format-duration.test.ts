/**
 * Durations for people: two units at most, relative to now in either direction.
 */

import { describe, expect, it } from 'vitest';
import { formatDuration, isoSeconds, relativeTime } from '../../src/tools/cli/shared/format-duration.ts';

describe('formatDuration', () => {
  it.each([
    [250, '250 ms'],
    [42_000, '42 s'],
    [192_000, '3 min 12 s'],
    [3 * 3_600_000 + 12 * 60_000 + 5_000, '3 h 12 min'],
    [13 * 3_600_000, '13 h'],
    [26 * 3_600_000, '1 d 2 h'],
    [-90_000, '1 min 30 s'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('relativeTime', () => {
  it('says "in" for the future, "ago" for the past and "now" within a second', () => {
    expect(relativeTime(10_000 + 3_300_000, 10_000)).toBe('in 55 min');
    expect(relativeTime(0, 600_000)).toBe('10 min ago');
    expect(relativeTime(1_000_400, 1_000_000)).toBe('now');
  });
});

describe('isoSeconds', () => {
  it('prints epoch seconds as ISO 8601 without milliseconds, and out-of-range values as they are', () => {
    expect(isoSeconds(1_763_899_200)).toBe('2025-11-23T12:00:00Z');
    expect(isoSeconds(1e300)).toBe('1e+300');
  });
});
