import { describe, expect, it } from 'vitest';
import { createVerifiedTokenCache, type VerifiedToken } from '../../src/core/token/verified-token-cache.ts';

const NOW = Date.UTC(2026, 10, 23, 12);
const entry = (overrides: Partial<VerifiedToken> = {}): VerifiedToken => ({
  issuer: 'https://idp.example.org',
  header: { alg: 'RS256', kid: 'k1' },
  payload: { sub: 's' },
  configVersion: 'v1',
  keySetGeneration: 1,
  ...overrides,
});
const binding = { configVersion: 'v1', keySetGeneration: () => 1 };

function cacheAt(start = NOW, options: { maxEntries?: number; maxAgeMs?: number; maxBytes?: number } = {}) {
  let now = start;
  const cache = createVerifiedTokenCache({ now: () => now, ...options });
  return { cache, advance: (ms: number) => (now += ms) };
}

describe('verified-token cache', () => {
  it('keys tokens by a SHA-256 of all their bytes, so a one-byte difference is another key', () => {
    const { cache } = cacheAt();
    expect(cache.keyOf('a.b.c')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cache.keyOf('a.b.c')).not.toBe(cache.keyOf('a.b.d'));
  });

  it('returns an entry until the token expires', () => {
    const { cache, advance } = cacheAt();
    cache.set('k', entry(), NOW / 1000 + 60);
    expect(cache.get('k', binding)?.payload).toEqual({ sub: 's' });
    advance(60_000);
    expect(cache.get('k', binding)).toBeUndefined();
  });

  it('keeps an entry at most maxAgeMs even when the token lives longer', () => {
    const { cache, advance } = cacheAt(NOW, { maxAgeMs: 300_000 });
    cache.set('k', entry(), NOW / 1000 + 3600);
    advance(299_999);
    expect(cache.get('k', binding)).toBeDefined();
    advance(1);
    expect(cache.get('k', binding)).toBeUndefined();
  });

  it('does not store a token that is already expired', () => {
    const { cache } = cacheAt();
    cache.set('k', entry(), NOW / 1000);
    expect(cache.size).toBe(0);
  });

  it('misses when the configuration version changed', () => {
    const { cache } = cacheAt();
    cache.set('k', entry(), NOW / 1000 + 60);
    expect(cache.get('k', { ...binding, configVersion: 'v2' })).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("misses when the issuer's key set was replaced or is no longer usable", () => {
    const { cache } = cacheAt();
    cache.set('k', entry(), NOW / 1000 + 60);
    cache.set('j', entry(), NOW / 1000 + 60);
    expect(cache.get('k', { ...binding, keySetGeneration: () => 2 })).toBeUndefined();
    expect(cache.get('j', { ...binding, keySetGeneration: () => undefined })).toBeUndefined();
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const { cache } = cacheAt(NOW, { maxEntries: 2 });
    cache.set('a', entry(), NOW / 1000 + 60);
    cache.set('b', entry(), NOW / 1000 + 60);
    cache.get('a', binding); // a is now the most recently used
    cache.set('c', entry(), NOW / 1000 + 60);
    expect(cache.get('b', binding)).toBeUndefined();
    expect(cache.get('a', binding)).toBeDefined();
    expect(cache.get('c', binding)).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('hands out the payload frozen so a request cannot alter what the next one sees', () => {
    const { cache } = cacheAt();
    cache.set('k', entry({ payload: { scope: 'read' } }), NOW / 1000 + 60);
    expect(Object.isFrozen(cache.get('k', binding)?.payload)).toBe(true);
  });

  describe('the byte budget', () => {
    const big = (name: string) => entry({ payload: { sub: name, groups: 'g'.repeat(4_000) } });

    it('evicts the least recently used entries to stay within maxBytes', () => {
      // Arrange: each entry charges a little over 8 KB; the budget holds two.
      const { cache } = cacheAt(NOW, { maxBytes: 20_000 });
      cache.set('a', big('a'), NOW / 1000 + 60);
      cache.set('b', big('b'), NOW / 1000 + 60);
      cache.get('a', binding); // a is now the most recently used

      // Act
      cache.set('c', big('c'), NOW / 1000 + 60);

      // Assert
      expect(cache.get('b', binding)).toBeUndefined();
      expect(cache.get('a', binding)).toBeDefined();
      expect(cache.get('c', binding)).toBeDefined();
      expect(cache.bytes).toBeLessThanOrEqual(20_000);
    });

    it('does not cache an entry that alone is over the budget', () => {
      // Arrange
      const { cache } = cacheAt(NOW, { maxBytes: 4_000 });

      // Act
      cache.set('a', big('a'), NOW / 1000 + 60);

      // Assert
      expect(cache.size).toBe(0);
      expect(cache.bytes).toBe(0);
    });

    it('gives back the bytes of entries that expire, are replaced or cleared', () => {
      // Arrange
      const { cache, advance } = cacheAt();
      cache.set('a', big('a'), NOW / 1000 + 10);
      cache.set('b', big('b'), NOW / 1000 + 60);
      const both = cache.bytes;
      cache.set('b', big('b'), NOW / 1000 + 60);

      // Act
      advance(10_000);
      const afterExpiry = (cache.get('a', binding), cache.bytes);
      cache.clear();

      // Assert
      expect(both).toBeGreaterThan(16_000);
      expect(afterExpiry).toBeLessThan(both);
      expect(afterExpiry).toBeGreaterThan(8_000);
      expect(cache.bytes).toBe(0);
    });
  });
});
