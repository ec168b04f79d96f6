/**
 * Bounds attacker-controlled strings before they reach a log line or a terminal (log injection):
 * printable ASCII only (CR, LF, ANSI escapes and Unicode tricks become '?') and a length cap.
 * JSON encoding then makes the line injection-proof.
 */

const UNSAFE = /[^\x20-\x7e…]/;
const UNSAFE_ALL = /[^\x20-\x7e…]/g;

export function sanitize(value: unknown, maxLength = 128): string | undefined {
  if (typeof value !== 'string') return undefined;
  const clipped = value.length > maxLength ? `${value.slice(0, maxLength)}…` : value;
  // Test first: the usual clean value is returned as is, without building a copy.
  return UNSAFE.test(clipped) ? clipped.replace(UNSAFE_ALL, '?') : clipped;
}
