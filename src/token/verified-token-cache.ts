/**
 * The verified-token cache (documented warm state, STYLE.md convention 6). A viewer sends hundreds of
 * DICOMweb requests with one token; after the first, the parse, key lookup and signature check are
 * skipped, while the claim checks (against now) and the policy still run on every request.
 * - key: SHA-256 of the whole token, computed only after the size cap. A hit means these exact bytes
 *   verified before; a malleable twin (SECURITY.md row 25) is simply a miss, never a collision
 *   (unlike keying on part of the token, fast-jwt GHSA-rp9m-7r4c-75qg).
 * - value: the verified payload and header facts, bound to the configuration version and the
 *   issuer's key-set generation at insertion: a new config or a replaced key set makes it a miss.
 * - TTL: until the token's `exp` and at most `maxAgeMs` (default 5 min) after insertion.
 * - bound: `maxEntries` (default 1000), least recently used evicted first.
 * Only tokens whose signature AND claims passed are inserted; a denied token is never cached.
 */

import { createHash, hash } from 'node:crypto';
import type { Clock } from '../clock.ts';
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
  clear(): void;
}

export interface VerifiedTokenCacheOptions {
  now: Clock;
  maxEntries?: number;
  maxAgeMs?: number;
}

export function createVerifiedTokenCache(options: VerifiedTokenCacheOptions): VerifiedTokenCache {
  const maxEntries = options.maxEntries ?? 1000;
  const maxAgeMs = options.maxAgeMs ?? 300_000;
  const entries = new Map<string, Entry>();
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
      entries.delete(key);
      if (!stillBound) return undefined;
      entries.set(key, entry); // most recently used last
      return entry;
    },

    set(key, token, expSeconds) {
      if (maxEntries <= 0) return;
      const expiresAtMs = Math.min(options.now() + maxAgeMs, expSeconds * 1000);
      if (!(expiresAtMs > options.now())) return;
      entries.delete(key);
      entries.set(key, { ...token, payload: Object.freeze(token.payload), expiresAtMs });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    },

    get size() {
      return entries.size;
    },

    clear() {
      entries.clear();
      lastToken = undefined;
    },
  };
}
