/**
 * How the audit line names the token's subject. `sub` is often personal data (Okta and some Entra
 * ID setups put an e-mail address there), so by default the line carries a keyed hash of the
 * issuer and subject instead: the same user gets the same value across instances and deploys, so an
 * audit can follow one user's requests, and only someone holding the key can test a guess.
 * docs/adr/0004-audit-subject-as-keyed-hash.md records the choice.
 * - `hash`: `subHash` = HMAC-SHA-256(key, iss + "\n" + sub), base64url, first 128 bits;
 * - `plain`: `sub` as it is (for IdPs whose subjects are opaque ids, when the logs may hold them);
 * - `omit`: neither.
 */

import { createHmac } from 'node:crypto';

export type AuditSubject =
  | { readonly mode: 'plain' }
  | { readonly mode: 'omit' }
  | { readonly mode: 'hash'; hash(iss: string, sub: string): string };

export const AUDIT_SUBJECT_MODES = ['hash', 'plain', 'omit'] as const;

/** Shorter keys are refused: the hash must not be guessable by brute force over the key. */
export const MIN_AUDIT_HASH_KEY_LENGTH = 32;

/** The hashing mode with this key. A viewer repeats one token, so the last result is reused. */
export function hashedSubject(key: string): AuditSubject {
  let lastInput: string | undefined;
  let lastHash = '';
  return {
    mode: 'hash',
    hash(iss, sub) {
      const input = `${iss}\n${sub}`;
      if (input !== lastInput) {
        lastHash = createHmac('sha256', key).update(input).digest('base64url').slice(0, 22);
        lastInput = input;
      }
      return lastHash;
    },
  };
}

/** The audit field for the subject under `subject`, or undefined when none is logged. */
export function subjectField(
  iss: string,
  sub: string,
  subject: AuditSubject,
): { name: 'sub' | 'subHash'; value: string } | undefined {
  switch (subject.mode) {
    case 'plain':
      return { name: 'sub', value: sub };
    case 'hash':
      return { name: 'subHash', value: subject.hash(iss, sub) };
    case 'omit':
      return undefined;
    default: {
      const unreachable: never = subject;
      return unreachable;
    }
  }
}
