/**
 * The Decision record: what one invocation concluded and why. Exactly one reason code; the facts the
 * audit line may carry (verified claims only after the signature checked out; before that only
 * sanitised header facts and the issuer); and the step trace that `explain` renders. It never holds
 * the token, the raw event or a jose error.
 */

import type { Reason } from './reason-codes.ts';

/** The pipeline steps in order (the check order in docs/reason-codes.md). */
export type StepName =
  'request' | 'config' | 'format' | 'header' | 'issuer' | 'key' | 'signature' | 'claims' | 'policy';

export interface Step {
  step: StepName;
  ok: boolean;
  /** Fixed text, config names or sanitised facts: never token bytes or unverified claim values. */
  detail: string;
}

/** Facts from a token whose signature verified. */
export interface VerifiedFacts {
  iss: string;
  sub: string;
  clientId?: string;
  tid?: string;
  jti?: string;
  iat: number;
  exp: number;
}

export interface KeyFacts {
  cacheState: 'fresh' | 'stale' | 'refetched' | 'unavailable';
  keysAgeMs?: number;
}

export interface Decision {
  reason: Reason;
  /** Present only when reason is `allowed`. */
  roleArn?: string;
  /** The rule that decided (allowed), for the audit trail. */
  rule?: string;
  datastoreId?: string;
  operation?: string;
  /** Sanitised, length-capped header facts (attacker-controlled until verified). */
  alg?: string;
  kid?: string;
  /** The configured issuer the token named (or a sanitised unverified iss when it matched none). */
  iss?: string;
  verified?: VerifiedFacts;
  keys?: KeyFacts;
  /** Whether the verified-token cache answered for this token (absent when no cache is used). */
  tokenCache?: 'hit' | 'miss';
  configVersion?: string;
  steps: Step[];
}
