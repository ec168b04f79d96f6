/**
 * Strict JSON parsing for unauthenticated token segments. One linear, non-recursive scan validates
 * the RFC 8259 grammar, caps nesting depth and the total member/element count, and rejects
 * duplicate member names (compared after unescaping) before `JSON.parse` ever sees the text:
 * JSON.parse keeps the last duplicate, which invites parser differentials (rows 17, 18, 43, 44 of
 * test/security/catalogue.test.ts).
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
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
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

/**
 * One string token (RFC 8259 §7): no raw control characters, only the defined escapes; scanString
 * returns the index after its closing quote, or -1. A sticky
 * regular expression rather than a character loop: it runs as native code from the first request
 * on, where a JavaScript loop over every character waits for the optimising compiler (`npm run bench`,
 * "early" rows). The two alternatives start differently, so matching and failing are linear.
 */
const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*"/y;

function scanString(text: string, i: number): number {
  JSON_STRING.lastIndex = i;
  return JSON_STRING.test(text) ? JSON_STRING.lastIndex : -1;
}

/** One number token (RFC 8259 §6): no leading zeros, no bare dot, no `+`, digits after `.` and `e`. */
const JSON_NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

function scanNumber(text: string, i: number): number {
  JSON_NUMBER.lastIndex = i;
  return JSON_NUMBER.test(text) ? JSON_NUMBER.lastIndex : -1;
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
