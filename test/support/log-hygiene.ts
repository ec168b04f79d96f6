/**
 * The log-hygiene rules of docs/operations.md "Audit log and metrics" as one checker, shared by every
 * security test file that produces log lines (the built bundle's stdout, or audit records rendered
 * for decisions made through authorize()). It returns readable problems instead of throwing, so a
 * failure names the offending line.
 */

/** Anything shaped like a JWS/JWT segment: base64url of a JSON object, 20 characters or more. */
const TOKEN_SEGMENT = /eyJ[A-Za-z0-9_-]{17,}/;
const BASE64URL_RUN = /[A-Za-z0-9_-]{20,}/g;
/** C0/C1 controls (CR, LF, ESC for ANSI sequences, NUL …) and bidi overrides (U+202A-E, U+2066-9). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

export const MAX_LINE_LENGTH = 4096;
/**
 * The largest cap sanitize() applies (IdP URLs: 512 plus an ellipsis); attacker-controlled token
 * fields are capped lower (256) and row 67 of test/security/catalogue.test.ts checks those caps one
 * by one.
 */
export const MAX_FIELD_LENGTH = 513;

export interface HygieneOptions {
  /** Values that must never appear in a log line (personal claims, patient identifiers). */
  secrets: readonly string[];
  /** Tokens minted by the suite: none of their segments (20+ characters) may appear. */
  tokens?: readonly string[];
}

export function hygieneProblems(lines: readonly string[], options: HygieneOptions): string[] {
  const problems: string[] = [];
  // A logged segment would sit inside a maximal base64url run of the line: compare runs, not lines.
  const runs = new Set<string>();
  for (const line of lines) for (const [run] of line.matchAll(BASE64URL_RUN)) runs.add(run);
  const longRuns = [...runs];
  const checked = new Set<string>();
  for (const token of options.tokens ?? []) {
    for (const segment of token.split('.')) {
      if (segment.length < 20 || checked.has(segment)) continue;
      checked.add(segment);
      if (longRuns.some((run) => run.length >= segment.length && run.includes(segment))) {
        problems.push(`a minted token segment was logged: ${segment.slice(0, 24)}…`);
      }
    }
  }
  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${line.slice(0, 80)}…)`;
    if (TOKEN_SEGMENT.test(line)) problems.push(`${where}: contains a token-shaped segment`);
    if (CONTROL.test(line)) problems.push(`${where}: contains a raw control or bidi character`);
    if (line.length > MAX_LINE_LENGTH) problems.push(`${where}: ${line.length} characters long`);
    for (const secret of options.secrets) {
      if (line.includes(secret))
        problems.push(`${where}: contains the personal value ${JSON.stringify(secret)}`);
    }
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      problems.push(`${where}: not a JSON line`);
      return;
    }
    for (const value of stringsIn(record)) {
      if (CONTROL.test(value)) problems.push(`${where}: a field decodes to a control or bidi character`);
      if (TOKEN_SEGMENT.test(value)) problems.push(`${where}: a field decodes to a token-shaped segment`);
      if (value.length > MAX_FIELD_LENGTH) problems.push(`${where}: a field is ${value.length} characters`);
    }
  });
  return problems;
}

/** Every string value (and member name) in a parsed JSON document, iteratively. */
function stringsIn(root: unknown): string[] {
  const out: string[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) stack.push(...(value as unknown[]));
    else if (typeof value === 'object' && value !== null) {
      for (const [name, member] of Object.entries(value)) {
        out.push(name);
        stack.push(member);
      }
    }
  }
  return out;
}
