/**
 * Renders the reason-code table (docs/reason-codes.md, CLI) from the one declaration in reason-codes.ts, so the
 * documentation cannot drift from the code (a test compares docs/reason-codes.md with this output).
 */

import { REASON_CODES, REASONS } from './reason-codes.ts';

export function renderReasonTable(): string {
  const rows = REASON_CODES.map((code) => {
    const answer = code === 'allowed' ? 'valid, role' : REASONS[code].valid ? 'valid, ""' : 'invalid, ""';
    return `| \`${code}\` | ${answer} | ${REASONS[code].summary} |`;
  });
  return ['| reason | answer to HealthImaging | meaning |', '|---|---|---|', ...rows].join('\n');
}
