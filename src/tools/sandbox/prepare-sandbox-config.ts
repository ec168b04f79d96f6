/**
 * Turns a configuration file into the one the sandbox's handler loads: the placeholder issuer of
 * sandbox/config.json is replaced by the embedded OpenID Provider's real issuer (its port is only
 * known once it listens). A user's own configuration (`--config`) passes through unchanged unless
 * it names the placeholder too. Validation is the Lambda's own, with the same JSON paths.
 */

import { type AuthorizerConfig, type ConfigIssue, parseConfigText } from '../../core/config/schema.ts';

/** Stands for the embedded IdP's issuer in a sandbox config (a valid loopback URL, never fetched). */
export const SANDBOX_ISSUER_PLACEHOLDER = 'http://127.0.0.1/embedded-idp';

export type PreparedConfig =
  | { ok: true; text: string; config: AuthorizerConfig; trustsEmbeddedIdp: boolean }
  | { ok: false; issues: ConfigIssue[] };

function replaceStrings(value: unknown, from: string, to: string): unknown {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((item) => replaceStrings(item, from, to));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceStrings(item, from, to)]),
    );
  }
  return value;
}

export function prepareSandboxConfig(text: string, embeddedIssuer: string): PreparedConfig {
  // Judged as written first: the rewrite goes through JSON.parse, which keeps only the last of a
  // repeated key, so the second check alone would pass a file the Lambda itself rejects.
  const original = parseConfigText(text);
  if (!original.ok) return original;
  const replaced = JSON.stringify(
    replaceStrings(JSON.parse(text) as unknown, SANDBOX_ISSUER_PLACEHOLDER, embeddedIssuer),
    null,
    2,
  );
  const parsed = parseConfigText(replaced);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    text: `${replaced}\n`,
    config: parsed.config,
    trustsEmbeddedIdp: parsed.config.issuers.some((issuer) => issuer.issuer === embeddedIssuer),
  };
}
