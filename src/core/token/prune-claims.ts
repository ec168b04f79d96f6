/**
 * What the verified-token cache keeps of a token's claims: the claims claim validation reads
 * (VALIDATED_CLAIMS) and the top-level claims the configuration's rules reach (a rule path's exact
 * name and its first dotted segment, whole). Validation and policy then decide on the pruned claims
 * exactly as on the full ones, while names, e-mail addresses, group lists no rule uses and other bulk
 * of a large token are not held for minutes in memory. The cache entry is bound to the configuration
 * version, so the rules that chose what to keep are the rules that read it.
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
