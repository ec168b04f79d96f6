/**
 * Chooses where the configuration comes from (a public contract, docs/configuration.md):
 * exactly one of three environment variables. Zero or several is an operator mistake that must fail
 * closed with a message naming the variables, not a guess at which one was meant.
 */

import type { Refusal, Result } from '../kernel/result.ts';

export const CONFIG_ENV = {
  inline: 'AUTHORIZER_CONFIG',
  file: 'AUTHORIZER_CONFIG_FILE',
  parameter: 'AUTHORIZER_CONFIG_PARAMETER',
} as const;

export type ConfigSource =
  { kind: 'inline'; text: string } | { kind: 'file'; path: string } | { kind: 'parameter'; name: string };

export type ConfigSourceSelection = Result<
  { source: ConfigSource },
  Refusal<'config_unavailable' | 'config_invalid'>
>;

const ALL_NAMES = `${CONFIG_ENV.inline}, ${CONFIG_ENV.file}, ${CONFIG_ENV.parameter}`;

/** Pure: reads only the given record, so tests and the CLI pass their own environment. */
export function selectConfigSource(env: Readonly<Record<string, string | undefined>>): ConfigSourceSelection {
  // An empty string counts as unset: deployment templates often render an unused variable as "".
  const candidates: { variable: string; source: ConfigSource }[] = [];
  const inline = env[CONFIG_ENV.inline];
  if (inline) candidates.push({ variable: CONFIG_ENV.inline, source: { kind: 'inline', text: inline } });
  const path = env[CONFIG_ENV.file];
  if (path) candidates.push({ variable: CONFIG_ENV.file, source: { kind: 'file', path } });
  const name = env[CONFIG_ENV.parameter];
  if (name) candidates.push({ variable: CONFIG_ENV.parameter, source: { kind: 'parameter', name } });

  const [only, ...others] = candidates;
  if (only === undefined) {
    return {
      ok: false,
      reason: 'config_unavailable',
      detail: `no configuration source: set one of ${ALL_NAMES}`,
    };
  }
  if (others.length > 0) {
    return {
      ok: false,
      reason: 'config_invalid',
      detail: `set exactly one of ${ALL_NAMES} (found ${candidates.map((c) => c.variable).join(', ')})`,
    };
  }
  return { ok: true, source: only.source };
}
