/**
 * Strict JSON parsing for unauthenticated token segments. One linear, non-recursive scan validates
 * the RFC 8259 grammar, caps nesting depth and the total member/element count, and rejects duplicate
 * member names (compared after unescaping) before `JSON.parse` ever sees the text: JSON.parse keeps
 * the last duplicate, which invites parser differentials (SECURITY.md rows 17, 18, 43, 44).
 */

export interface StrictJsonLimits {
  /** Maximum nesting of objects and arrays (`{}` is depth 1). */
  maxDepth: number;
  /** Maximum total count of object members plus array elements in the whole document. */
  maxMembers: number;
}

export type StrictJsonError =
  'invalid_utf8' | 'invalid_json' | 'duplicate_key' | 'too_deep' | 'too_many_members';

export type StrictJsonResult = { ok: true; value: unknown } | { ok: false; error: StrictJsonError };

type Frame = { kind: 'object'; names: Set<string> } | { kind: 'array' };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Reused: constructing a TextDecoder per call was measurable on the hot path; decode() holds no state. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses UTF-8 JSON bytes strictly. Never throws; runs in time linear in the input. */
export function parseStrictJson(bytes: Uint8Array, limits: StrictJsonLimits): StrictJsonResult {
  let text: string;
  try {
    // fatal: invalid UTF-8 is an error, not U+FFFD (RFC 7519 §7.2). ignoreBOM: a BOM stays in the
    // text and then fails the grammar, since RFC 8259 §8.1 forbids it in networked JSON.
    text = UTF8.decode(bytes);
  } catch {
    return { ok: false, error: 'invalid_utf8' };
  }
  try {
    const error = scan(text, limits);
    if (error !== undefined) return { ok: false, error };
    // Depth is bounded by the scan, so JSON.parse cannot run out of stack here.
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // Unreachable after a passing scan; kept so that no input can ever make this function throw.
    return { ok: false, error: 'invalid_json' };
  }
}

/**
 * Validates the whole text with an explicit stack (bounded by `maxDepth`) instead of recursion.
 * Returns the first error found, or undefined when the text is one valid, in-limits JSON value.
 */
function scan(text: string, limits: StrictJsonLimits): StrictJsonError | undefined {
  const stack: Frame[] = [];
  let members = 0;
  let i = 0;
  for (;;) {
    // Expecting a value at i.
    i = skipWhitespace(text, i);
    const c = text.charCodeAt(i);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (stack.length >= limits.maxDepth) return 'too_deep';
      i = skipWhitespace(text, i + 1);
      const empty = text.charCodeAt(i) === (c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY);
      if (empty) {
        i += 1;
      } else {
        members += 1;
        if (members > limits.maxMembers) return 'too_many_members';
        if (c === OPEN_OBJECT) {
          const frame: Frame = { kind: 'object', names: new Set() };
          stack.push(frame);
          const next = scanMemberName(text, i, frame.names);
          if (typeof next !== 'number') return next;
          i = next;
        } else {
          stack.push({ kind: 'array' });
        }
        continue;
      }
    } else if (c === QUOTE) {
      const end = scanString(text, i);
      if (end < 0) return 'invalid_json';
      i = end;
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      const end = scanNumber(text, i);
      if (end < 0) return 'invalid_json';
      i = end;
    } else if (text.startsWith('true', i)) {
      i += 4;
    } else if (text.startsWith('false', i)) {
      i += 5;
    } else if (text.startsWith('null', i)) {
      i += 4;
    } else {
      return 'invalid_json';
    }

    // A value ended at i: close finished containers, or move on to the next member/element.
    for (;;) {
      i = skipWhitespace(text, i);
      const top = stack[stack.length - 1];
      if (top === undefined) return i === text.length ? undefined : 'invalid_json';
      const d = text.charCodeAt(i);
      if (d === (top.kind === 'object' ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        stack.pop();
        i += 1;
        continue;
      }
      if (d !== COMMA) return 'invalid_json';
      members += 1;
      if (members > limits.maxMembers) return 'too_many_members';
      i += 1;
      if (top.kind === 'object') {
        const next = scanMemberName(text, skipWhitespace(text, i), top.names);
        if (typeof next !== 'number') return next;
        i = next;
      }
      break;
    }
  }
}

/** Reads `"name" :` at i; returns the index after the colon, or the error. */
function scanMemberName(text: string, i: number, names: Set<string>): number | StrictJsonError {
  if (text.charCodeAt(i) !== QUOTE) return 'invalid_json';
  const end = scanString(text, i);
  if (end < 0) return 'invalid_json';
  // Compare names after unescaping: "a" and "\u0061" are the same member (RFC 8259 §8.3). Without a
  // backslash the raw slice already is the name (the scan rejected control characters).
  const raw = text.slice(i + 1, end - 1);
  const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
  if (names.has(name)) return 'duplicate_key';
  names.add(name);
  const colon = skipWhitespace(text, end);
  if (text.charCodeAt(colon) !== COLON) return 'invalid_json';
  return colon + 1;
}

/** Index after the closing quote of the string starting at i, or -1 (RFC 8259 §7). */
function scanString(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const c = text.charCodeAt(j);
    if (Number.isNaN(c)) return -1;
    if (c === QUOTE) return j + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      const e = text.charCodeAt(j + 1);
      if (e === 0x75 /* u */) {
        for (let k = j + 2; k < j + 6; k += 1) if (!isHexDigit(text.charCodeAt(k))) return -1;
        j += 6;
      } else if (
        e === QUOTE ||
        e === BACKSLASH ||
        e === 0x2f /* / */ ||
        e === 0x62 /* b */ ||
        e === 0x66 /* f */ ||
        e === 0x6e /* n */ ||
        e === 0x72 /* r */ ||
        e === 0x74 /* t */
      ) {
        j += 2;
      } else {
        return -1;
      }
    } else {
      j += 1;
    }
  }
}

/** Index after the number starting at i, or -1 (RFC 8259 §6: no leading zeros, `+`, `.5` or `5.`). */
function scanNumber(text: string, i: number): number {
  let j = i;
  if (text.charCodeAt(j) === MINUS) j += 1;
  if (text.charCodeAt(j) === ZERO) {
    j += 1;
  } else {
    const start = j;
    j = skipDigits(text, j);
    if (j === start) return -1;
  }
  if (text.charCodeAt(j) === DOT) {
    const start = j + 1;
    j = skipDigits(text, start);
    if (j === start) return -1;
  }
  const e = text.charCodeAt(j);
  if (e === 0x65 /* e */ || e === 0x45 /* E */) {
    j += 1;
    const sign = text.charCodeAt(j);
    if (sign === PLUS || sign === MINUS) j += 1;
    const start = j;
    j = skipDigits(text, start);
    if (j === start) return -1;
  }
  return j;
}

function skipDigits(text: string, i: number): number {
  let j = i;
  for (let c = text.charCodeAt(j); c >= ZERO && c <= NINE; c = text.charCodeAt(j)) j += 1;
  return j;
}

/** RFC 8259 whitespace only: space, tab, LF, CR (not NBSP, not BOM). */
function skipWhitespace(text: string, i: number): number {
  let j = i;
  for (
    let c = text.charCodeAt(j);
    c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
    c = text.charCodeAt(j)
  ) {
    j += 1;
  }
  return j;
}

function isHexDigit(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
