/**
 * Repeated member names in configuration text: JSON.parse keeps the last one, so a rule could read
 * narrow in review and be wide in effect. parseConfigText must reject every repeated name, at every
 * level, by its JSON path, however the name is spelled (RFC 8259 §8.3), and all of them at once.
 */

import { fc, it as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { findDuplicateMembers } from '../../src/core/config/duplicate-members.ts';
import { type ConfigIssue, parseConfigText } from '../../src/core/config/schema.ts';
import { parseStrictJson } from '../../src/core/token/strict-json.ts';
import { DUPLICATE_KEY_CONFIG_TEXT, DUPLICATE_KEY_ISSUE, ISSUER } from '../support/fixtures/config.ts';

const ROLE = 'arn:aws:iam::111122223333:role/AhiRead';

/**
 * The minimal valid config as text, with members spliced in: `top` into the document, `issuer` into
 * the issuer, `rule` into the rule, `claims` into its claims, and `rules` after the first rule.
 */
function configText(extra: {
  top?: string;
  issuer?: string;
  rule?: string;
  claims?: string;
  rules?: string;
}) {
  return (
    `{"issuers":[{"issuer":"${ISSUER}","audience":"api://ahi"${extra.issuer ?? ''}}],` +
    `"rules":[{"name":"readers","roleArn":"${ROLE}","claims":{"groups":"readers"${extra.claims ?? ''}}` +
    `${extra.rule ?? ''}}${extra.rules ?? ''}]${extra.top ?? ''}}`
  );
}

const duplicate = (path: string, name: string): ConfigIssue => ({
  path,
  message: `duplicate key ${JSON.stringify(name)} (JSON keeps only the last one)`,
});

describe('parseConfigText on repeated keys', () => {
  it('rejects a rule whose operations key appears twice, naming $.rules[0].operations', () => {
    // Act
    const result = parseConfigText(DUPLICATE_KEY_CONFIG_TEXT);

    // Assert
    expect(result).toEqual({ ok: false, issues: [DUPLICATE_KEY_ISSUE] });
  });

  it.each([
    [
      'rules at the top level',
      { top: `,"rules":[{"name":"everyone","roleArn":"${ROLE}","claims":{"iss":"${ISSUER}"}}]` },
      '$.rules',
      'rules',
    ],
    ['audience in an issuer', { issuer: ',"audience":"api://other"' }, '$.issuers[0].audience', 'audience'],
    ['claims in a rule', { rule: ',"claims":{"iss":"any"}' }, '$.rules[0].claims', 'claims'],
    ['a claim path in claims', { claims: ',"groups":"everyone"' }, '$.rules[0].claims.groups', 'groups'],
    [
      'a dotted claim path in claims',
      { claims: ',"realm_access.roles":"a","realm_access.roles":"b"' },
      '$.rules[0].claims["realm_access.roles"]',
      'realm_access.roles',
    ],
  ])('rejects %s appearing twice, naming its JSON path', (_what, extra, path, name) => {
    // Arrange
    const text = configText(extra);

    // Act
    const result = parseConfigText(text);

    // Assert
    expect(result).toEqual({ ok: false, issues: [duplicate(path, name)] });
  });

  it('rejects a repeated key in the second rule only, not keys shared by sibling rules', () => {
    // Arrange: every rule has a name, a roleArn and claims; only the second repeats one of them.
    const text = configText({
      rules: `,{"name":"writers","roleArn":"${ROLE}","claims":{"name":"w"},"roleArn":"${ROLE}"}`,
    });

    // Act
    const result = parseConfigText(text);

    // Assert
    expect(result).toEqual({ ok: false, issues: [duplicate('$.rules[1].roleArn', 'roleArn')] });
  });

  it('finds a repeated key inside nested arrays of objects, even under a key the schema would reject', () => {
    // Arrange
    const text = configText({ top: ',"extra":[[{"a":1}],[{"b":{"a":1,"a":2}}]]' });

    // Act
    const result = parseConfigText(text);

    // Assert
    expect(result).toEqual({ ok: false, issues: [duplicate('$.extra[1][0].b.a', 'a')] });
  });

  it('compares names after unescaping: "oper\\u0061tions" repeats "operations"', () => {
    // Arrange
    const text = configText({ rule: ',"operations":["read"],"oper\\u0061tions":["read","write"]' });

    // Act
    const result = parseConfigText(text);

    // Assert
    expect(text).toContain('"oper\\u0061tions"');
    expect(result).toEqual({ ok: false, issues: [duplicate('$.rules[0].operations', 'operations')] });
  });

  it('names a repeated claim path that holds an escaped quote', () => {
    // Arrange
    const text = configText({ claims: ',"a\\"b":1,"a\\u0022b":2' });

    // Act
    const result = parseConfigText(text);

    // Assert
    expect(result).toEqual({ ok: false, issues: [duplicate('$.rules[0].claims["a\\"b"]', 'a"b')] });
  });

  it('reads braces, commas, colons and escaped quotes inside strings as text, not as structure', () => {
    // Arrange: a value that spells `","groups":"` and one that ends in a backslash; one real repeat.
    const text = configText({
      claims: ',"x":"{[\\",\\"groups\\":\\"]}","y":"ends in \\\\","z":"\\\\\\"","x":"again"',
    });

    // Act
    const result = parseConfigText(text);

    // Assert
    expect(result).toEqual({ ok: false, issues: [duplicate('$.rules[0].claims.x', 'x')] });
  });

  it('reports every repeated key at once, in document order, once per key and object', () => {
    // Arrange
    const text = configText({
      issuer: ',"audience":"api://other","audience":"api://third"',
      claims: ',"groups":"everyone"',
      rule: ',"operations":["read"],"operations":["write"]',
    });

    // Act
    const result = parseConfigText(text);

    // Assert
    expect(result).toEqual({
      ok: false,
      issues: [
        duplicate('$.issuers[0].audience', 'audience'),
        duplicate('$.rules[0].claims.groups', 'groups'),
        duplicate('$.rules[0].operations', 'operations'),
      ],
    });
  });
});

describe('findDuplicateMembers', () => {
  /** JSON text, some of it with a member repeated (possibly escaped) somewhere inside. */
  const spelled = (name: string, escapeMask: number): string =>
    `"${[...name]
      .map((char, index) =>
        (escapeMask >> (index % 16)) & 1
          ? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
          : JSON.stringify(char).slice(1, -1),
      )
      .join('')}"`;
  const withRepeat = fc
    .tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.json(), fc.json(), fc.nat(), fc.nat(), fc.json())
    .map(
      ([name, a, b, m1, m2, outer]) =>
        `{"outer":${outer},"list":[[{${spelled(name, m1)}:${a},"k":[],${spelled(name, m2)}:${b}}]]}`,
    );
  const text = fc.oneof(
    fc.json(),
    withRepeat,
    fc.json().map((json) => `[${json},{"a":${json},"a":1}]`),
  );

  prop.prop([text], { numRuns: 2000 })(
    'finds a repeated name exactly when the token parser’s strict scanner does',
    (input) => {
      // Act
      const found = findDuplicateMembers(input);
      const strict = parseStrictJson(Buffer.from(input, 'utf8'), { maxDepth: 10_000, maxMembers: 1e9 });

      // Assert
      expect(found.length > 0).toBe(!strict.ok && strict.error === 'duplicate_key');
    },
  );
});
