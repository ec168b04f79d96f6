/**
 * HealthImaging's own checks before it invokes the authorizer (AHI developer guide
 * dicomweb-oidc-how.html, "Initial verification"): exp after now, nbf (if present) not after now,
 * iat neither in the future nor over 12 hours old. Like AHI, the emulator reads them from the
 * unverified payload; an unreadable token is refused the same way.
 */

export type PrecheckResult = { ok: true } | { ok: false; detail: string };

const TWELVE_HOURS_MS = 12 * 3_600_000;

function payloadOf(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const seconds = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

export function precheckTokenTimes(token: string, nowMs: number): PrecheckResult {
  const payload = payloadOf(token);
  if (payload === undefined) return { ok: false, detail: 'not a JWT with a JSON payload' };
  const exp = seconds(payload['exp']);
  const iat = seconds(payload['iat']);
  const nbf = payload['nbf'] === undefined ? undefined : seconds(payload['nbf']);
  if (exp === undefined) return { ok: false, detail: 'exp is absent or not a number' };
  if (exp * 1000 <= nowMs) return { ok: false, detail: 'exp is not after now' };
  if (payload['nbf'] !== undefined && (nbf === undefined || nbf * 1000 > nowMs)) {
    return { ok: false, detail: 'nbf is after now' };
  }
  if (iat === undefined) return { ok: false, detail: 'iat is absent or not a number' };
  if (iat * 1000 > nowMs) return { ok: false, detail: 'iat is in the future' };
  if (iat * 1000 < nowMs - TWELVE_HOURS_MS) return { ok: false, detail: 'iat is more than 12 hours ago' };
  return { ok: true };
}
