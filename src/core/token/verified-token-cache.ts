/**
 * The verified-token cache (state deliberately kept between invocations). A viewer sends hundreds of
 * DICOMweb requests with one token; after the first, the parse, key lookup and signature check are
 * skipped, while the claims (against now) and the policy still run every time. Only tokens whose
 * signature and claims passed are cached.
 */

import { hash } from 'node:crypto';
import type { Clock } from '../kernel/clock.ts';
import type { JoseHeaderFacts } from './inspect-token.ts';

export interface VerifiedToken {
  /** The configured issuer the token verified against. */
  issuer: string;
  header: JoseHeaderFacts;
  /**
   * Verified claims, pruned to what validation and the rules read (prune-claims.ts), shared by later
   * requests: policy evaluation only reads them (top level frozen).
   */
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
  /**
   * The key: SHA-256 of the whole token (callers compute it once per request, after the size cap). A
   * hit means these exact bytes verified before; a malleable twin (the ECDSA high-s one, see
   * SECURITY.md "Deliberate choices worth knowing") is simply a miss, never a collision (unlike
   * keying on part of the token, fast-jwt GHSA-rp9m-7r4c-75qg).
   */
  keyOf(token: string): string;
  /** A miss once the token expired, or the configuration version or the issuer's key set changed. */
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
  /** Default 1000. Past it or `maxBytes`, the least recently used entries are evicted first. */
  maxEntries?: number;
  /** The memory bound, as charged by entryBytes; default 8 MiB. An entry over it alone is not cached. */
  maxBytes?: number;
  /** An entry lives until the token's `exp`, and at most this long; default 5 min. */
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
      // The one-shot crypto.hash skips the Hash object (every supported Node has it: engines >= 20.16).
      lastKey = hash('sha256', token, 'base64url');
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
