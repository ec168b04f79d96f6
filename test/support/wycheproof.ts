/**
 * Typed access to the Project Wycheproof vectors vendored in test/support/fixtures/wycheproof (Apache-2.0,
 * see the LICENSE and README there). Only the fields the suite reads are typed.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const DIR = resolve(import.meta.dirname, './fixtures/wycheproof');

export type VectorResult = 'valid' | 'invalid' | 'acceptable';

export interface VectorFile<G> {
  numberOfTests: number;
  testGroups: G[];
}

export type Jwk = Record<string, unknown>;

export interface JwsTest {
  tcId: number;
  comment: string;
  flags?: string[];
  jws: unknown;
  result: VectorResult;
}

/** json_web_signature_test.json: one key (`public`, else `private` for symmetric keys). */
export interface JwsGroup {
  comment: string;
  public?: Jwk;
  private?: Jwk;
  tests: JwsTest[];
}

/** json_web_key_test.json: a key set (`public`, else `private`). */
export interface JwkGroup {
  comment: string;
  public?: { keys: Jwk[] };
  private: { keys: Jwk[] };
  tests: JwsTest[];
}

export interface SignatureTest {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: VectorResult;
}

export interface SignatureGroup {
  publicKeyJwk?: Jwk;
  keyJwk?: Jwk;
  publicKey?: { wx?: string; wy?: string };
  tests: SignatureTest[];
}

export function loadVectors<G>(file: string): VectorFile<G> {
  return JSON.parse(readFileSync(resolve(DIR, file), 'utf8')) as VectorFile<G>;
}

/** Total test vectors in a file, as its header declares (used to prove none was skipped). */
export function countTests(file: VectorFile<{ tests: unknown[] }>): number {
  return file.testGroups.reduce((sum, group) => sum + group.tests.length, 0);
}
