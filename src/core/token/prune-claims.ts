/**
 * What the verified-token cache keeps of a token's claims: those claim validation reads and the
 * top-level claims the rules reach, so validation and policy decide exactly as on the full claims
 * without holding personal data no rule uses. Entries are bound to the configuration version whose
 * rules chose what to keep.
 */

import type { AuthorizerConfig } from '../config/schema.ts';
import { VALIDATED_CLAIMS } from './validate-claims.ts';

const keptByConfig = new WeakMap<AuthorizerConfig, ReadonlySet<string>>();

/** The top-level claim names kept for this configuration (computed once per configuration). */
export function claimsKeptFor(config: AuthorizerConfig): ReadonlySet<string> {
  let kept = keptByConfig.get(config);
  if (kept === undefined) {
    const names = new Set<string>(VALIDATED_CLAIMS);
    for (const rule of config.rules) {
      for (const path of Object.keys(rule.claims)) {
        // lookupClaim tries the exact top-level name, then the dotted path from its first segment.
        names.add(path);
        names.add(path.split('.', 1)[0] ?? path);
      }
    }
    kept = names;
    keptByConfig.set(config, kept);
  }
  return kept;
}

/** The token's own claims with a name in `kept`, values shared (never copied or changed). */
export function pruneClaims(
  payload: Readonly<Record<string, unknown>>,
  kept: ReadonlySet<string>,
): Record<string, unknown> {
  const pruned: Record<string, unknown> = {};
  for (const name of Object.keys(payload)) {
    // defineProperty, not assignment: a "__proto__" claim stays a plain own property.
    if (kept.has(name)) Object.defineProperty(pruned, name, { value: payload[name], enumerable: true });
  }
  return pruned;
}
