/**
 * Claim lookup and the claim value set (docs/configuration.md, "Matching"): finds a rule's claim path
 * in verified claims (exact top-level name first, then a dotted path through plain objects) and turns
 * it into the scalars a condition compares. Only own data properties are read, and nothing throws (row
 * 45 of test/security/catalogue.test.ts).
 */

import type { ClaimScalar } from '../config/schema.ts';

export type ClaimLookup = { found: true; value: unknown } | { found: false };

/**
 * At most this many array elements (or `scp`/`scope` parts) are considered: 10k groups must stay
 * cheap (catalogue row 63). Tokens are size-capped upstream, so real claims never come close.
 */
export const MAX_CLAIM_VALUES = 1000;

/** The config schema rejects these path segments too; refusing them here keeps lookup safe alone. */
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

/** Claims whose space-separated string value is a list (RFC 6749 §3.3, RFC 8693 §4.2). */
const SPACE_SEPARATED_CLAIMS: ReadonlySet<string> = new Set(['scp', 'scope']);

const NOT_FOUND: ClaimLookup = Object.freeze({ found: false });

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Reads an own data property without invoking getters or walking the prototype chain. A property
 * whose value is `undefined` (impossible from JSON) counts as absent.
 */
function ownDataValue(container: object, key: string): ClaimLookup {
  if (!Object.hasOwn(container, key)) return NOT_FOUND;
  const descriptor = Object.getOwnPropertyDescriptor(container, key);
  if (descriptor === undefined || !('value' in descriptor) || descriptor.value === undefined) {
    return NOT_FOUND;
  }
  return { found: true, value: descriptor.value };
}

function lookup(claims: object, path: string): ClaimLookup {
  const segments = path.split('.');
  if (segments.some((segment) => FORBIDDEN_SEGMENTS.has(segment))) return NOT_FOUND;

  // Exact top-level names first: `cognito:groups`, `https://example.com/roles`, even `a.b`.
  const exact = ownDataValue(claims, path);
  if (exact.found || segments.length === 1) return exact;

  // Then a dotted path, every '.' a separator; arrays and non-plain objects are never entered.
  let current: unknown = claims;
  for (const segment of segments) {
    if (!isPlainObject(current)) return NOT_FOUND;
    const next = ownDataValue(current, segment);
    if (!next.found) return NOT_FOUND;
    current = next.value;
  }
  return { found: true, value: current };
}

/** Finds `path` in the claims. Never throws: exotic values (proxies, throwing traps) are absent. */
export function lookupClaim(claims: Readonly<Record<string, unknown>>, path: string): ClaimLookup {
  const root: unknown = claims;
  try {
    if (typeof root !== 'object' || root === null || Array.isArray(root)) return NOT_FOUND;
    return lookup(root, path);
  } catch {
    return NOT_FOUND;
  }
}

function isClaimScalar(value: unknown): value is ClaimScalar {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function arrayScalars(values: readonly unknown[]): ClaimScalar[] {
  const out: ClaimScalar[] = [];
  const end = Math.min(values.length, MAX_CLAIM_VALUES);
  for (let index = 0; index < end; index += 1) {
    const element = values[index];
    if (isClaimScalar(element)) out.push(element);
  }
  return out;
}

/**
 * The set a condition is compared against: an array gives its scalar elements (others ignored); a
 * string gives itself, except top-level `scp`/`scope`, which split on runs of spaces; a number or
 * boolean gives itself; anything else (object, null) gives nothing. Never throws.
 */
export function claimValueSet(path: string, value: unknown): ClaimScalar[] {
  try {
    if (Array.isArray(value)) return arrayScalars(value);
    if (typeof value === 'string') {
      if (!SPACE_SEPARATED_CLAIMS.has(path)) return [value];
      return value
        .split(/ +/)
        .filter((part) => part.length > 0)
        .slice(0, MAX_CLAIM_VALUES);
    }
    if (typeof value === 'number' || typeof value === 'boolean') return [value];
    return [];
  } catch {
    return [];
  }
}
