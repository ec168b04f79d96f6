/**
 * Human durations for explanations ("3 h 12 min", "in 54 min", "2 d 1 h ago"): two units at most,
 * because a person fixing a token needs the order of magnitude, not the millisecond.
 */

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1_000],
];

export function formatDuration(ms: number): string {
  const total = Math.abs(Math.round(ms));
  if (total < 1_000) return `${total} ms`;
  const first = UNITS.findIndex(([, size]) => total >= size);
  const [unit, size] = UNITS[first] ?? ['s', 1_000];
  const count = Math.floor(total / size);
  const next = UNITS[first + 1];
  if (next === undefined) return `${count} ${unit}`;
  const [nextUnit, nextSize] = next;
  const nextCount = Math.floor((total - count * size) / nextSize);
  return nextCount > 0 ? `${count} ${unit} ${nextCount} ${nextUnit}` : `${count} ${unit}`;
}

/** "in 54 min" for a future instant, "3 h 12 min ago" for a past one. */
export function relativeTime(atMs: number, nowMs: number): string {
  const delta = atMs - nowMs;
  if (Math.abs(delta) < 1_000) return 'now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
}

/** ISO 8601 without milliseconds, for epoch seconds from a token. */
export function isoSeconds(epochSeconds: number): string {
  const ms = epochSeconds * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return String(epochSeconds);
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
