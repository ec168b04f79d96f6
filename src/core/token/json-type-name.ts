/**
 * Names the JSON type of an untrusted value for diagnostics. Details may carry types and lengths
 * but never attacker-supplied values (docs/operations.md "Audit log and metrics"), so this is the only
 * description of a bad claim or header parameter that reaches a log line.
 */

export function jsonTypeName(value: unknown): string {
  if (value === undefined) return 'absent';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
