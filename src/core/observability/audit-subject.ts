/**
 * How the audit line names the token's subject. `sub` is often personal data (an e-mail address at
 * some IdPs), so by default the line carries a keyed hash of issuer and subject: an audit can follow
 * one user across instances, and only the key's holder can test a guess.
 * docs/adr/0004-audit-subject-as-keyed-hash.md records the choice.
 */

import { createHmac } from 'node:crypto';

/**
 * - `hash`: `subHash` = HMAC-SHA-256(key, iss + "\n" + sub), base64url, first 128 bits;
 * - `plain`: `sub` as it is (for IdPs whose subjects are opaque ids, when the logs may hold them);
 * - `omit`: neither.
 */
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
