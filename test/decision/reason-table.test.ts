import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REASON_CODES, REASONS } from '../../src/core/decision/reason-codes.ts';
import { renderReasonTable } from '../../src/core/decision/reason-table.ts';

describe('reason codes', () => {
  it('are lower snake case and unique', () => {
    for (const code of REASON_CODES) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    expect(new Set(REASON_CODES).size).toBe(REASON_CODES.length);
  });

  it('mark exactly allowed, no_role_mapping and operation_not_permitted as valid tokens', () => {
    const valid = REASON_CODES.filter((code) => REASONS[code].valid);
    expect(valid).toEqual(['allowed', 'no_role_mapping', 'operation_not_permitted']);
  });

  it('are documented in docs/reason-codes.md exactly as the code declares them', () => {
    const readme = readFileSync(new URL('../../docs/reason-codes.md', import.meta.url), 'utf8');
    const block = readme
      .split('<!-- reason-codes:start -->')[1]
      ?.split('<!-- reason-codes:end -->')[0]
      ?.trim();
    expect(block).toBe(renderReasonTable());
  });
});
