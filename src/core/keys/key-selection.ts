/**
 * Choosing the verification key within one issuer's key set: an exact kid lookup (a kid two keys share
 * is ambiguous, and neither is tried), whether the key fits the token's alg, and the public key jose
 * imports once per key and alg, cached with the set. Row numbers are cases of
 * test/security/catalogue.test.ts.
 */

import { type CryptoKey, importJWK, type JWK } from 'jose';
import { type Refusal, type Result, refuse } from '../kernel/result.ts';
import { type DroppedKey, type JwksKey, keyFitsAlg } from './parse-jwks.ts';

/** One good fetch of an issuer's JWKS, indexed by kid. */
export interface KeySet {
  readonly keys: readonly JwksKey[];
  readonly byKid: ReadonlyMap<string, readonly JwksKey[]>;
  readonly dropped: readonly DroppedKey[];
  /** Monotonic time of the fetch (the cache ages the set from it). */
  readonly fetchedAt: number;
  /** Identifies the set; a new fetch gets a new one (caches of verified tokens bind to it). */
  readonly generation: number;
  /** Imports (per key, per alg) are cached with the set, so a replaced set drops them too. */
  readonly imported: Map<JwksKey, Map<string, Imported>>;
}

/** An import in flight or done; `key` is set once it settled (null: WebCrypto refused the key). */
interface Imported {
  readonly promise: Promise<CryptoKey | undefined>;
  key?: CryptoKey | null;
}

export type Selection =
  | { kind: 'key'; key: JwksKey; alg: string }
  | { kind: 'missing' }
  | { kind: 'ambiguous' }
  | { kind: 'misfit' };

export type SelectionRefusal = Refusal<'kid_unknown' | 'jwks_ambiguous_key'>;

export function buildKeySet(
  keys: readonly JwksKey[],
  dropped: readonly DroppedKey[],
  fetchedAt: number,
  generation: number,
): KeySet {
  const byKid = new Map<string, JwksKey[]>();
  for (const key of keys) {
    const list = byKid.get(key.kid);
    if (list) list.push(key);
    else byKid.set(key.kid, [key]);
  }
  return { keys, byKid, dropped, fetchedAt, generation, imported: new Map() };
}

/** Exact kid lookup; a duplicated kid is ambiguous and its candidates are never tried (row 34). */
export function selectKey(set: KeySet, kid: string, alg: string): Selection {
  const candidates = set.byKid.get(kid);
  if (candidates === undefined || candidates.length === 0) return { kind: 'missing' };
  const [only, ...rest] = candidates;
  if (only === undefined || rest.length > 0) return { kind: 'ambiguous' };
  // The key's own alg, type and curve must fit the token's alg (row 22).
  return keyFitsAlg(only, alg) ? { kind: 'key', key: only, alg } : { kind: 'misfit' };
}

/** The key a selection names, imported for its alg, or why there is none (`missingDetail` for an unknown kid). */
export async function keyFor(
  selection: Selection,
  set: KeySet,
  missingDetail: string,
): Promise<Result<{ key: CryptoKey }, SelectionRefusal>> {
  switch (selection.kind) {
    case 'missing':
      return refuse('kid_unknown', missingDetail);
    case 'ambiguous':
      return refuse('jwks_ambiguous_key', 'two or more keys share this kid');
    case 'misfit':
      return refuse('kid_unknown', 'the key with this kid does not fit the token alg');
    case 'key': {
      const key = await importFor(set, selection.key, selection.alg);
      if (key === undefined) return refuse('kid_unknown', 'the key with this kid could not be imported');
      return { ok: true, key };
    }
    default: {
      const unreachable: never = selection;
      return unreachable;
    }
  }
}

/** The key for this kid and alg when it is already imported (no I/O, no promise); undefined otherwise. */
export function peekedKey(set: KeySet, kid: string, alg: string): CryptoKey | undefined {
  const selection = selectKey(set, kid, alg);
  if (selection.kind !== 'key') return undefined;
  const key = set.imported.get(selection.key)?.get(alg)?.key;
  return key === undefined || key === null ? undefined : key;
}

/**
 * The public key as a WebCrypto CryptoKey for this alg (what jose verifies with), imported by jose
 * once per key and alg and cached with the key set: never per request. parse-jwks already kept public
 * members only and checked sizes and curves; WebCrypto validates the rest (an EC point off its curve,
 * say). A key it refuses is remembered as unusable.
 */
function importFor(set: KeySet, key: JwksKey, alg: string): Promise<CryptoKey | undefined> {
  let byAlg = set.imported.get(key);
  if (byAlg === undefined) {
    byAlg = new Map();
    set.imported.set(key, byAlg);
  }
  let imported = byAlg.get(alg);
  if (imported === undefined) {
    const promise = importJWK(key.jwk as JWK, alg).then(
      (result) => {
        const usable = result instanceof Uint8Array || result.type !== 'public' ? undefined : result;
        entry.key = usable ?? null;
        return usable;
      },
      () => {
        entry.key = null;
        return undefined;
      },
    );
    const entry: Imported = { promise };
    imported = entry;
    byAlg.set(alg, entry);
  }
  return imported.promise;
}
