/**
 * Finds member names that repeat inside one JSON object, with the path of each. JSON.parse keeps only
 * the last, so a config could read narrow in review and be wide in effect; RFC 8259 §4 leaves their
 * meaning unpredictable. Runs at cold start on text JSON.parse accepted; tokens have their own
 * stricter scanner (src/core/token/strict-json.ts).
 */

/** A repeated member: the path of its object followed by its name, e.g. ['rules', 0, 'operations']. */
export type DuplicateMemberPath = (string | number)[];

interface Frame {
  /** Objects: how often each name has been seen. Arrays: undefined. */
  names: Map<string, number> | undefined;
  /** The member name or element index being read in this container. */
  key: string | number;
  /** Objects: the next string is a member name (after `{` or `,`). */
  expectingName: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * Every name that appears more than once in the same object, once per object and name, in the
 * order of their second occurrences. `text` must be JSON that JSON.parse accepts; on any other
 * text the answer is meaningless, but the function still returns (it never throws or loops).
 */
export function findDuplicateMembers(text: string): DuplicateMemberPath[] {
  const found: DuplicateMemberPath[] = [];
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (top?.names !== undefined && top.expectingName) {
        top.expectingName = false;
        const raw = text.slice(i + 1, end - 1);
        // Names compare unescaped: "a" and "\u0061" are the same member (RFC 8259 §8.3). Without a
        // backslash the raw slice already is the name (JSON.parse accepted the text).
        const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
        const seen = top.names.get(name) ?? 0;
        top.names.set(name, seen + 1);
        top.key = name;
        if (seen === 1) found.push(stack.map((frame) => frame.key));
      }
      i = end;
      continue;
    }
    if (c === OPEN_OBJECT) {
      stack.push({ names: new Map(), key: '', expectingName: true });
    } else if (c === OPEN_ARRAY) {
      stack.push({ names: undefined, key: 0, expectingName: false });
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
    } else if (c === COMMA && top !== undefined) {
      if (top.names === undefined) top.key = (top.key as number) + 1;
      else top.expectingName = true;
    }
    // Anything else (whitespace, `:`, numbers, literals) holds no name and opens no container.
    i += 1;
  }
  return found;
}

/**
 * The index after the closing quote of the string opening at `start`. A quote closes the string
 * when an even number of backslashes precedes it; each run of backslashes is counted once, so the
 * whole scan stays linear.
 */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    let before = quote - 1;
    while (before > start && text.charCodeAt(before) === BACKSLASH) before -= 1;
    if ((quote - 1 - before) % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}
