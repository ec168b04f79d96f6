/**
 * Parses `explain --now`: an ISO 8601 instant with a date ("2026-11-23T12:00:00Z") or epoch
 * seconds as a token's `iat` would carry them ("1763899200"). Anything else is a usage error.
 */

export type ParsedInstant = { ok: true; ms: number } | { ok: false; message: string };

export function parseInstant(text: string): ParsedInstant {
  const value = text.trim();
  if (/^\d{1,11}$/.test(value)) return { ok: true, ms: Number(value) * 1000 };
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return { ok: true, ms };
  }
  return {
    ok: false,
    message: `--now: expected an ISO 8601 instant (2026-11-23T12:00:00Z) or epoch seconds, got ${JSON.stringify(value.slice(0, 40))}`,
  };
}
