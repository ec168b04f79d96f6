/**
 * The version label of configuration text that has no version of its own (inline, file): a short
 * content hash, so the log line of every decision names the exact configuration it used (F19).
 */

import { createHash } from 'node:crypto';

/** `sha256:` + the first 12 hex digits (48 bits: plenty to tell deployments apart, short in logs). */
export function contentVersion(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 12)}`;
}
