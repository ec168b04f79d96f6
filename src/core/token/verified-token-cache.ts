/**
 * The verified-token cache (state deliberately kept between invocations). A viewer sends hundreds
 * of DICOMweb requests with one token; after the first, the parse, key lookup and signature check
 * are skipped, while the claim checks (against now) and the policy still run on every request.
 * - key: SHA-256 of the whole token, computed only after the size cap. A hit means these exact bytes
 *   verified before; a malleable twin (the ECDSA high-s one, see SECURITY.md
 *   "Deliberate choices worth knowing") is simply a miss, never a collision (unlike keying on
 *   part of the token, fast-jwt GHSA-rp9m-7r4c-75qg).
 * - value: the claims validation and the rules read (prune-claims.ts: never the whole payload) and
 *   the header facts, bound to the configuration version and the issuer's key-set generation at
 *   insertion: a new config or a replaced key set makes it a miss.
 * - TTL: until the token's `exp` and at most `maxAgeMs` (default 5 min) after insertion.
 * - bounds: `maxEntries` (default 1000) and `maxBytes` (default 8 MiB, as estimated by entryBytes),
 *   least recently used evicted first; an entry over the byte bound alone is not cached.
 * Only tokens whose signature AND claims passed are inserted; a denied token is never cached.
 */

import { createHash, hash } from 'node:crypto';
import type { Clock } from '../kernel/clock.ts';
import type { JoseHeaderFacts } from './inspect-token.ts';

export interface VerifiedToken {
  /** The configured issuer the token verified against. */
  issuer: string;
  header: JoseHeaderFacts;
  /** Verified claims, shared by later requests: policy evaluation only reads them (top level frozen). */
  payload: Readonly<Record<string, unknown>>;
  configVersion: string;
  keySetGeneration: number;
}

interface Entry extends VerifiedToken {
  expiresAtMs: number;
  /** What this entry is charged against the byte budget (see entryBytes). */
  bytes: number;
}

export interface VerifiedTokenCache {
  /** The hash used as the key (callers compute it once per request). */
  keyOf(token: string): string;
  get(
    key: string,
    binding: { configVersion: string; keySetGeneration: (issuer: string) => number | undefined },
  ): VerifiedToken | undefined;
  set(key: string, token: VerifiedToken, expSeconds: number): void;
  readonly size: number;
  /** The bytes charged for the entries held now (never more than `maxBytes`). */
  readonly bytes: number;
  clear(): void;
}

export interface VerifiedTokenCacheOptions {
  now: Clock;
  maxEntries?: number;
  /** The memory bound, as charged by entryBytes; default 8 MiB. */
  maxBytes?: number;
  maxAgeMs?: number;
}

/** The default memory bound: small beside the smallest Lambda (128 MB), room for thousands of tokens. */
export const DEFAULT_TOKEN_CACHE_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Fixed cost charged per entry on top of its strings: the Map slot, the entry and header objects,
 * and the property storage of the claims object.
 */
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * An estimate of an entry's heap: two bytes per character of its strings (the digest key, the
 * claims as JSON, the header facts, the issuer and configuration version) plus a fixed overhead.
 * Undefined when it cannot be measured (never cached then).
 */
function entryBytes(key: string, token: VerifiedToken): number | undefined {
  try {
    const claims = JSON.stringify(token.payload).length;
    const header = JSON.stringify(token.header).length;
    const strings = key.length + claims + header + token.issuer.length + token.configVersion.length;
    return 2 * strings + ENTRY_OVERHEAD_BYTES;
  } catch {
    return undefined;
  }
}

export function createVerifiedTokenCache(options: VerifiedTokenCacheOptions): VerifiedTokenCache {
  const maxEntries = options.maxEntries ?? 1000;
  const maxBytes = options.maxBytes ?? DEFAULT_TOKEN_CACHE_MAX_BYTES;
  const maxAgeMs = options.maxAgeMs ?? 300_000;
  const entries = new Map<string, Entry>();
  let totalBytes = 0;
  const remove = (key: string, entry: Entry) => {
    entries.delete(key);
    totalBytes -= entry.bytes;
  };
  // A viewer repeats one token: comparing with the last token is cheaper than hashing it again.
  let lastToken: string | undefined;
  let lastKey = '';

  return {
    keyOf(token) {
      if (token === lastToken) return lastKey;
      // The one-shot crypto.hash (Node ≥ 20.12) skips the Hash object; same digest.
      lastKey =
        typeof hash === 'function'
          ? hash('sha256', token, 'base64url')
          : createHash('sha256').update(token).digest('base64url');
      lastToken = token;
      return lastKey;
    },

    get(key, binding) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      const stillBound =
        entry.expiresAtMs > options.now() &&
        entry.configVersion === binding.configVersion &&
        entry.keySetGeneration === binding.keySetGeneration(entry.issuer);
      if (!stillBound) {
        remove(key, entry);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, entry); // most recently used last
      return entry;
    },

    set(key, token, expSeconds) {
      if (maxEntries <= 0) return;
      const expiresAtMs = Math.min(options.now() + maxAgeMs, expSeconds * 1000);
      if (!(expiresAtMs > options.now())) return;
      const bytes = entryBytes(key, token);
      if (bytes === undefined || bytes > maxBytes) return;
      const previous = entries.get(key);
      if (previous !== undefined) remove(key, previous);
      entries.set(key, { ...token, payload: Object.freeze(token.payload), expiresAtMs, bytes });
      totalBytes += bytes;
      // Least recently used first, until both bounds hold.
      for (const [oldestKey, oldest] of entries) {
        if (entries.size <= maxEntries && totalBytes <= maxBytes) break;
        remove(oldestKey, oldest);
      }
    },

    get size() {
      return entries.size;
    },

    get bytes() {
      return totalBytes;
    },

    clear() {
      entries.clear();
      totalBytes = 0;
      lastToken = undefined;
    },
  };
}
