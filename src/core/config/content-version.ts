/**
 * The version label of configuration text that has no version of its own (inline, file): a short
 * content hash, so the log line of every decision names the exact configuration it used.
 */

import { hash } from 'node:crypto';

/** `sha256:` + the first 12 hex digits (48 bits: plenty to tell deployments apart, short in logs). */
export function contentVersion(text: string): string {
  // crypto.hash (one call, no Hash object) is cheaper than createHash on its first use.
  return `sha256:${hash('sha256', text, 'hex').slice(0, 12)}`;
}
