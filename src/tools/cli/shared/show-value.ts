/**
 * Renders a claim or header value for a terminal line: strings quoted and sanitised (no escape
 * sequences, length-capped), arrays cut to ten items, objects named by type. Values are shown
 * only where the caller may show them (claims only after the signature verified).
 */

import { sanitize } from '../../../core/observability/sanitize.ts';

const MAX_ITEMS = 10;

export function showValue(value: unknown, maxLength = 96): string {
  if (typeof value === 'string') return JSON.stringify(sanitize(value, maxLength));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => showValue(item, maxLength));
    const more = value.length > MAX_ITEMS ? `, … ${value.length - MAX_ITEMS} more` : '';
    return `[${items.join(', ')}${more}]`;
  }
  return value === undefined ? 'absent' : 'an object';
}

/** One or several expected values: `"a"` or `"a" or "b"`. */
export function showAlternatives(values: readonly unknown[]): string {
  return values.map((value) => showValue(value)).join(' or ');
}
