import { fc, it as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseStrictJson } from '../../src/core/token/strict-json.ts';

const LIMITS = { maxDepth: 16, maxMembers: 1000 };
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('parseStrictJson', () => {
  describe('valid JSON (RFC 8259)', () => {
    it.each([
      ['an empty object', '{}'],
      ['an empty array', '[]'],
      ['a string', '"RS256"'],
      ['zero', '0'],
      ['a negative exponent number', '-0.5e+10'],
      ['an upper-case exponent', '1E-3'],
      ['a large exponent (Infinity after parsing)', '1e400'],
      ['the literals', '[true,false,null]'],
      ['insignificant whitespace', ' \t\r\n{ "a" : [ 1 , 2 ] , "b" : { } }\n'],
      ['every escape', '"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"'],
      ['a lone surrogate escape', '{"\\ud800":1}'],
      ['non-ASCII text', '{"name":"Zoë 東京 😀"}'],
      ['the same name in sibling objects', '{"a":{"x":1},"b":{"x":2},"c":[{"x":3},{"x":4}]}'],
    ])('returns what JSON.parse returns for %s', (_name, text) => {
      // Act
      const result = parseStrictJson(utf8(text), LIMITS);

      // Assert
      expect(result).toEqual({ ok: true, value: JSON.parse(text) as unknown });
    });
  });

  describe('grammar errors', () => {
    it.each([
      ['empty input', ''],
      ['whitespace only', '  \n'],
      ['an unclosed object', '{"a":1'],
      ['a stray closing brace', '}'],
      ['a name without a value', '{"a"}'],
      ['a missing value', '{"a":}'],
      ['a trailing comma in an object', '{"a":1,}'],
      ['a trailing comma in an array', '[1,]'],
      ['a leading comma', '[,1]'],
      ['missing commas', '[1 2]'],
      ['a colon in an array', '[1:2]'],
      ['a comma for a colon', '{"a",1}'],
      ['an unquoted name', '{a:1}'],
      ['a number as a name', '{1:1}'],
      ['single quotes', "{'a':1}"],
      ['a leading zero', '01'],
      ['a bare fraction', '.5'],
      ['a trailing dot', '1.'],
      ['a plus sign', '+1'],
      ['a dangling exponent', '1e'],
      ['an exponent without digits after the sign', '1e+'],
      ['a lone minus', '-'],
      ['NaN', 'NaN'],
      ['Infinity', 'Infinity'],
      ['a truncated literal', 'tru'],
      ['a wrongly cased literal', 'True'],
      ['an unterminated string', '"abc'],
      ['a raw control character in a string', '"a\u0001b"'],
      ['a raw newline in a string', '"a\nb"'],
      ['an unknown escape', '"\\x41"'],
      ['a short unicode escape', '"\\u12"'],
      ['a non-hex unicode escape', '"\\u12G4"'],
      ['two values', '{} {}'],
      ['an extra closing bracket', '[]]'],
      ['a mismatched closing bracket', '[}'],
      ['trailing garbage', '1 x'],
      ['a comment', '{"a":1 /* c */}'],
      ['NBSP as whitespace', '\u00a0{}'],
      ['a byte order mark', '\ufeff{}'],
    ])('returns invalid_json for %s', (_name, text) => {
      // Act
      const result = parseStrictJson(utf8(text), LIMITS);

      // Assert
      expect(result).toEqual({ ok: false, error: 'invalid_json' });
    });

    it('keeps a UTF-8 byte order mark and rejects it as invalid_json', () => {
      // Arrange
      const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8('{"alg":"RS256"}')]);

      // Act
      const result = parseStrictJson(bytes, LIMITS);

      // Assert
      expect(result).toEqual({ ok: false, error: 'invalid_json' });
    });

    it.each([
      ['a lone continuation byte', [0x7b, 0x80, 0x7d]],
      ['an invalid byte', [0x22, 0xff, 0x22]],
      ['an overlong encoding of "/"', [0x22, 0xc0, 0xaf, 0x22]],
      ['an encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
      ['a truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
    ])('returns invalid_utf8 for %s', (_name, bytes) => {
      // Act
      const result = parseStrictJson(Uint8Array.from(bytes), LIMITS);

      // Assert
      expect(result).toEqual({ ok: false, error: 'invalid_utf8' });
    });
  });

  describe('duplicate member names', () => {
    it.each([
      ['a repeated name', '{"alg":"none","alg":"RS256"}'],
      ['a name repeated after unescaping', '{"a":1,"\\u0061":2}'],
      ['a fully escaped repeated name', '{"\\u0069\\u0073\\u0073":"evil","iss":"good"}'],
      ['an escaped solidus', '{"a/b":1,"a\\/b":2}'],
      ['a repeat in a nested object', '{"x":{"a":1,"b":2,"a":3}}'],
      ['a repeat inside an array element', '[{"a":1,"a":1}]'],
      ['a repeated __proto__', '{"__proto__":1,"__proto__":2}'],
    ])('returns duplicate_key for %s', (_name, text) => {
      // Act
      const result = parseStrictJson(utf8(text), LIMITS);

      // Assert
      expect(result).toEqual({ ok: false, error: 'duplicate_key' });
    });

    it('treats names that differ only in case as distinct', () => {
      // Act
      const result = parseStrictJson(utf8('{"alg":1,"ALG":2}'), LIMITS);

      // Assert
      expect(result).toEqual({ ok: true, value: { alg: 1, ALG: 2 } });
    });
  });

  describe('limits', () => {
    const nestedArrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

    it('accepts nesting exactly at maxDepth', () => {
      // Arrange
      const text = '{"a":{"b":[{}]}}';

      // Act
      const result = parseStrictJson(utf8(text), { maxDepth: 4, maxMembers: 64 });

      // Assert
      expect(result).toEqual({ ok: true, value: { a: { b: [{}] } } });
    });

    it('returns too_deep one level past maxDepth, counting objects and arrays', () => {
      // Arrange
      const text = '{"a":{"b":[{"c":[]}]}}';

      // Act
      const result = parseStrictJson(utf8(text), { maxDepth: 4, maxMembers: 64 });

      // Assert
      expect(result).toEqual({ ok: false, error: 'too_deep' });
    });

    it('returns too_deep for 100k nested arrays without overflowing the stack', () => {
      // Arrange
      const bytes = utf8(nestedArrays(100_000));

      // Act
      const result = parseStrictJson(bytes, { maxDepth: 16, maxMembers: 10_000 });

      // Assert
      expect(result).toEqual({ ok: false, error: 'too_deep' });
    });

    it('returns too_deep for 100k nested objects that never close', () => {
      // Arrange
      const bytes = utf8('{"a":'.repeat(100_000));

      // Act
      const result = parseStrictJson(bytes, { maxDepth: 4, maxMembers: 64 });

      // Assert
      expect(result).toEqual({ ok: false, error: 'too_deep' });
    });

    it('scans 100k nested arrays iteratively when the limit allows them', () => {
      // Arrange
      const bytes = utf8(`[${nestedArrays(99_999)},1]`);

      // Act
      const result = parseStrictJson(bytes, { maxDepth: 200_000, maxMembers: 200_000 });

      // Assert
      expect(result.ok).toBe(true);
    });

    it('accepts exactly maxMembers members and elements in total', () => {
      // Arrange: 2 members + 2 elements + 1 member = 5
      const text = '{"a":[1,2],"b":{"c":3}}';

      // Act
      const result = parseStrictJson(utf8(text), { maxDepth: 4, maxMembers: 5 });

      // Assert
      expect(result).toEqual({ ok: true, value: { a: [1, 2], b: { c: 3 } } });
    });

    it('returns too_many_members one past maxMembers', () => {
      // Arrange
      const text = '{"a":[1,2,3],"b":{"c":3}}';

      // Act
      const result = parseStrictJson(utf8(text), { maxDepth: 4, maxMembers: 5 });

      // Assert
      expect(result).toEqual({ ok: false, error: 'too_many_members' });
    });

    it('does not count empty containers as members', () => {
      // Act
      const result = parseStrictJson(utf8('[[],{},[]]'), { maxDepth: 4, maxMembers: 3 });

      // Assert
      expect(result).toEqual({ ok: true, value: [[], {}, []] });
    });

    it('returns too_many_members for 100k members before parsing them', () => {
      // Arrange
      const members = Array.from({ length: 100_000 }, (_, i) => `"m${i}":0`).join(',');

      // Act
      const result = parseStrictJson(utf8(`{${members}}`), { maxDepth: 4, maxMembers: 64 });

      // Assert
      expect(result).toEqual({ ok: false, error: 'too_many_members' });
    });
  });

  it('keeps a __proto__ member as an own property without polluting prototypes', () => {
    // Act
    const result = parseStrictJson(utf8('{"__proto__":{"polluted":true},"constructor":1}'), LIMITS);

    // Assert
    expect(result.ok).toBe(true);
    const value = (result as { value: Record<string, unknown> }).value;
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('agrees with JSON.parse on 3000 random mutations of a token payload', () => {
    // Arrange: a seeded generator keeps the cases reproducible.
    const seed =
      '{"iss":"https://idp.example","aud":["a","b"],"exp":1.5e9,"n":-0.25,"ok":true,"x":null,"s":"\\u00e9\\n"}';
    const alphabet = '{}[]:,"\\ 0123456789.eE+-truefalsn\u00e9\t\n';
    let state = 42;
    const random = (n: number): number => {
      state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
      return (state >>> 8) % n;
    };
    const disagreements: string[] = [];

    // Act
    for (let round = 0; round < 3000; round += 1) {
      const chars = [...seed];
      for (let edits = 1 + random(3); edits > 0; edits -= 1) {
        const at = random(chars.length);
        const op = random(3);
        const ch = alphabet[random(alphabet.length)] ?? ' ';
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, ch);
        else chars[at] = ch;
      }
      const text = chars.join('');
      const result = parseStrictJson(utf8(text), LIMITS);
      let expected: unknown;
      let parses = true;
      try {
        expected = JSON.parse(text);
      } catch {
        parses = false;
      }
      const agrees = result.ok
        ? parses && JSON.stringify(result.value) === JSON.stringify(expected)
        : parses
          ? result.error === 'duplicate_key'
          : result.error === 'invalid_json';
      if (!agrees) disagreements.push(text);
    }

    // Assert
    expect(disagreements).toEqual([]);
  });
});

describe('parseStrictJson against JSON.parse (the reference grammar)', () => {
  const LIMITS = { maxDepth: 1000, maxMembers: 1_000_000 };
  /** JSON texts, and JSON texts with one tricky character inserted, replaced or removed. */
  const tricky = fc.constantFrom(
    '"',
    '\\',
    '/',
    'u',
    '0',
    '-',
    '+',
    '.',
    'e',
    'E',
    ',',
    ':',
    '{',
    '}',
    '[',
    ']',
    ' ',
    '\t',
    '\n',
    '\u0000',
    '\u001f',
    '\u2028',
    'x',
  );
  const text = fc.oneof(
    fc.json(),
    fc
      .tuple(fc.json(), fc.nat(), tricky, fc.constantFrom('insert', 'replace', 'remove'))
      .map(([json, at, char, how]) => {
        const i = at % (json.length + 1);
        if (how === 'insert') return json.slice(0, i) + char + json.slice(i);
        if (how === 'replace') return json.slice(0, i) + char + json.slice(i + 1);
        return json.slice(0, i) + json.slice(i + 1);
      }),
  );

  prop.prop([text], { numRuns: 3000 })('accepts what JSON.parse accepts, unless a name repeats', (input) => {
    // Arrange
    let native: { ok: true; value: unknown } | { ok: false };
    try {
      native = { ok: true, value: JSON.parse(input) };
    } catch {
      native = { ok: false };
    }

    // Act
    const strict = parseStrictJson(Buffer.from(input, 'utf8'), LIMITS);

    // Assert
    if (strict.ok) {
      expect(native.ok).toBe(true);
      if (native.ok) expect(strict.value).toEqual(native.value);
    } else if (native.ok) {
      expect(strict.error).toBe('duplicate_key');
    }
  });
});

describe('parseStrictJson finds a repeated name however it is spelled', () => {
  /** A member name written with some of its characters as \uXXXX escapes. */
  const spelled = (name: string, escapeMask: number): string =>
    `"${[...name]
      .map((char, index) =>
        (escapeMask >> (index % 16)) & 1
          ? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
          : JSON.stringify(char).slice(1, -1),
      )
      .join('')}"`;

  prop.prop(
    [
      fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme-ascii' }),
      fc.json(),
      fc.json(),
      fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.json()), { maxLength: 4 }),
      fc.nat(),
      fc.nat(),
      fc.boolean(),
    ],
    { numRuns: 2000 },
  )(
    'denies with duplicate_key when a name repeats, escaped or not, at any depth',
    (name, a, b, others, m1, m2, nest) => {
      // Arrange
      const filler = others
        .filter(([other]) => other !== name)
        .map(([other, value]) => `${JSON.stringify(other)}:${value}`);
      const members = [`${spelled(name, m1)}:${a}`, ...filler, `${spelled(name, m2)}:${b}`];
      const object = `{${members.join(',')}}`;
      const text = nest ? `{"outer":[${object}]}` : object;

      // Act
      const result = parseStrictJson(Buffer.from(text, 'utf8'), { maxDepth: 1000, maxMembers: 1_000_000 });

      // Assert
      expect(result).toEqual({ ok: false, error: 'duplicate_key' });
    },
  );
});
