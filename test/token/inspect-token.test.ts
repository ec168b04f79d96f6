/**
 * inspectToken, the pre-authentication gate, one reason code at a time.
 * Row numbers are the cases of the hostile-input catalogue, test/security/catalogue.test.ts.
 */

import { describe, expect, it } from 'vitest';
import { ASYMMETRIC_ALGORITHMS, MAX_TOKEN_LENGTH } from '../../src/core/kernel/limits.ts';
import { inspectToken } from '../../src/core/token/inspect-token.ts';
import { b64url, epoch, makeKey, signRaw, signToken } from '../support/keys.ts';
import { match } from '../support/matchers.ts';

const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);
const KID = 'kid-1';
const HEADER = { alg: 'RS256', kid: KID };
const CLAIMS = {
  iss: 'https://idp.example.com',
  sub: 'user-1',
  aud: 'api://ahi',
  iat: epoch(NOW_MS, -60),
  exp: epoch(NOW_MS, 600),
};

const key = await makeKey('RS256', KID);
const valid = await signToken(key, CLAIMS);
const [H = '', P = '', S = ''] = valid.split('.');

/** A token whose header is exactly `headerJson` (validly signed over those bytes). */
const withHeaderText = (headerJson: string): string => signRaw(key, headerJson, JSON.stringify(CLAIMS));
const withHeader = (header: Record<string, unknown>): string => withHeaderText(JSON.stringify(header));
/** A token whose payload is exactly `payloadJson`. */
const withPayloadText = (payloadJson: string): string => signRaw(key, JSON.stringify(HEADER), payloadJson);
/** A token with raw (possibly invalid UTF-8) bytes as one segment. */
const withRawHeader = (bytes: number[]): string => `${b64url(Uint8Array.from(bytes))}.${P}.${S}`;
const withRawPayload = (bytes: number[]): string => `${H}.${b64url(Uint8Array.from(bytes))}.${S}`;

/** The same bytes with a different last character: unused low bits set (row 8). */
function nonCanonicalTwin(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const bytes = Buffer.from(segment, 'base64url');
  for (const ch of alphabet) {
    const candidate = segment.slice(0, -1) + ch;
    if (candidate !== segment && Buffer.from(candidate, 'base64url').equals(bytes)) return candidate;
  }
  throw new Error('this segment length has no non-canonical twin');
}

describe('inspectToken', () => {
  it('returns the header facts and the unverified payload of a well-formed token', () => {
    // Act
    const result = inspectToken(valid);

    // Assert
    expect(result).toEqual({ ok: true, token: { header: { alg: 'RS256', kid: KID }, payload: CLAIMS } });
  });

  it.each([
    ['a string', 'at+jwt'],
    ['a number (judged later, per issuer)', 5],
    ['null', null],
  ])('returns typ when the header has one, even as %s', async (_name, typ) => {
    // Arrange
    const token = await signToken(key, CLAIMS, { typ });

    // Act
    const result = inspectToken(token);

    // Assert
    expect(result).toEqual({ ok: true, token: { header: { alg: 'RS256', kid: KID, typ }, payload: CLAIMS } });
  });

  it('omits typ when the header has none', () => {
    // Act
    const result = inspectToken(valid);

    // Assert
    expect(result.ok).toBe(true);
    expect(result.ok && Object.hasOwn(result.token.header, 'typ')).toBe(false);
  });

  describe('token_missing (row 1)', () => {
    it.each([
      ['an empty string', ''],
      ['undefined', undefined],
      ['null', null],
      ['a number', 42],
      ['an object', { token: valid }],
    ])('denies with token_missing for %s', (_name, token) => {
      // Act
      const result = inspectToken(token);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_missing' });
    });
  });

  describe('token_too_large (rows 14, 15, 17)', () => {
    it('denies with token_too_large one character over the cap, before the grammar check', () => {
      // Act
      const result = inspectToken('.'.repeat(MAX_TOKEN_LENGTH + 1));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_too_large' });
    });

    it('applies the grammar, not the cap, at exactly the cap', () => {
      // Act
      const result = inspectToken('.'.repeat(MAX_TOKEN_LENGTH));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_malformed' });
    });

    it('denies with token_too_large for 5 MB of dots (CVE-2025-30204 shape)', () => {
      // Act
      const result = inspectToken('.'.repeat(5_000_000));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_too_large' });
    });

    it('denies with token_too_large for a validly signed 4 MB token', async () => {
      // Arrange
      const token = await signToken(key, { ...CLAIMS, padding: 'a'.repeat(4_000_000) });

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_too_large' });
    });

    it('denies with token_too_large for "Bearer " plus an oversized token (the cap is checked first)', () => {
      // Act
      const result = inspectToken(`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH)}`);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_too_large' });
    });

    it('denies with token_too_large for a 100k-deep nested header without decoding it', () => {
      // Arrange
      const token = withHeaderText(
        `{"alg":"RS256","kid":"${KID}","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      );

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result).toMatchObject({
        ok: false,
        reason: 'token_too_large',
        detail: match.stringMatching(/cap/),
      });
    });

    it('denies with token_too_large for a header nested 5000 deep that fits under the cap', () => {
      // Arrange
      const token = withHeaderText(
        `{"alg":"RS256","kid":"${KID}","x":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      );

      // Act
      const result = inspectToken(token);

      // Assert
      expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
      expect(result).toMatchObject({
        ok: false,
        reason: 'token_too_large',
        detail: match.stringMatching(/deeper/),
      });
    });

    it('accepts a header nested exactly 4 deep', () => {
      // Arrange
      const token = withHeader({ ...HEADER, x: { a: { b: {} } } });

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result.ok).toBe(true);
    });

    it('denies with token_too_large for a header nested 5 deep', () => {
      // Arrange
      const token = withHeader({ ...HEADER, x: { a: { b: { c: {} } } } });

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result).toMatchObject({
        ok: false,
        reason: 'token_too_large',
        detail: match.stringMatching(/deeper/),
      });
    });

    it('accepts a header with exactly 64 members', () => {
      // Arrange
      const extra = Object.fromEntries(Array.from({ length: 62 }, (_, i) => [`p${i}`, i]));

      // Act
      const result = inspectToken(withHeader({ ...HEADER, ...extra }));

      // Assert
      expect(result.ok).toBe(true);
    });

    it('denies with token_too_large for a header with 65 members', () => {
      // Arrange
      const extra = Object.fromEntries(Array.from({ length: 63 }, (_, i) => [`p${i}`, i]));

      // Act
      const result = inspectToken(withHeader({ ...HEADER, ...extra }));

      // Assert
      expect(result).toMatchObject({
        ok: false,
        reason: 'token_too_large',
        detail: match.stringMatching(/members/),
      });
    });
  });

  describe('token_malformed: strict compact JWS grammar (rows 3-13)', () => {
    it.each([
      ['3', 'a "Bearer " prefix', () => `Bearer ${valid}`],
      ['3', 'a lower-case "bearer " prefix', () => `bearer ${valid}`],
      ['4', 'a leading space', () => ` ${valid}`],
      ['4', 'a trailing space', () => `${valid} `],
      ['4', 'a leading TAB', () => `\t${valid}`],
      ['4', 'a trailing CR LF', () => `${valid}\r\n`],
      ['4', 'a trailing LF', () => `${valid}\n`],
      ['5', 'a leading NBSP', () => `\u00a0${valid}`],
      ['5', 'a zero-width space inside the payload', () => `${H}.${P.slice(0, 5)}\u200b${P.slice(5)}.${S}`],
      ['5', 'a leading BOM', () => `\ufeff${valid}`],
      ['5', 'fullwidth dots', () => `${H}\uff0e${P}\uff0e${S}`],
      ['5', 'a right-to-left override', () => `${H}.${P}.${S}\u202e`],
      ['6', 'a space inside the signature', () => `${H}.${P}.${S.slice(0, 10)} ${S.slice(10)}`],
      ['6', 'a newline inside the signature', () => `${H}.${P}.${S.slice(0, 10)}\n${S.slice(10)}`],
      ['7', '"=" padding on the signature', () => `${valid}==`],
      ['7', '"=" padding on the header', () => `${H}=.${P}.${S}`],
      ['9', 'a standard-alphabet "+"', () => `${H}.${P}.+${S.slice(1)}`],
      ['9', 'a standard-alphabet "/"', () => `${H}.${P}.${S.slice(0, -1)}/`],
      ['10', 'a trailing dot', () => `${valid}.`],
      ['10', 'an extra segment', () => `${valid}.${S}`],
      ['11', 'an empty signature', () => `${H}.${P}.`],
      ['11', 'two segments', () => `${H}.${P}`],
      ['11', 'only dots', () => '..'],
      ['11', 'an empty header', () => `.${P}.${S}`],
      ['11', 'an empty payload', () => `${H}..${S}`],
      ['11', 'a single segment', () => H],
      ['12', 'a five-segment JWE', () => `${H}.${b64url('key')}.${b64url('iv')}.${P}.${b64url('tag')}`],
      [
        '13',
        'a flattened JSON serialization',
        () => JSON.stringify({ protected: H, payload: P, signature: S }),
      ],
      [
        '13',
        'a general JSON serialization',
        () => JSON.stringify({ payload: P, signatures: [{ protected: H, signature: S }] }),
      ],
    ])('row %s: denies with token_malformed for %s', (_row, _name, build) => {
      // Act
      const result = inspectToken(build());

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_malformed' });
    });

    it('row 8: denies with token_malformed for a non-canonical signature (same bytes, jose would accept)', () => {
      // Arrange
      const token = `${H}.${P}.${nonCanonicalTwin(S)}`;

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result).toMatchObject({
        ok: false,
        reason: 'token_malformed',
        detail: match.stringMatching(/canonical/),
      });
    });

    it('row 8: denies with token_malformed for a non-canonical header', () => {
      // Arrange
      const token = `${nonCanonicalTwin(H)}.${P}.${S}`;

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result).toMatchObject({
        ok: false,
        reason: 'token_malformed',
        detail: 'segment 1 is not canonical base64url',
      });
    });

    it('denies with token_malformed for a segment whose length no byte string encodes to', () => {
      // Arrange: 4n + 1 characters cannot come from any byte string (RFC 4648 §5).
      const signature = S + 'A'.repeat((9 - (S.length % 4)) % 4);
      const token = `${H}.${P}.${signature}`;

      // Act
      const result = inspectToken(token);

      // Assert
      expect(signature.length % 4).toBe(1);
      expect(result).toMatchObject({
        ok: false,
        reason: 'token_malformed',
        detail: match.stringMatching(/length/),
      });
    });
  });

  describe('header_invalid (rows 16, 18)', () => {
    it.each([
      ['not JSON', () => withHeaderText('alg=RS256')],
      ['truncated JSON', () => withHeaderText('{"alg":"RS256","kid":')],
      ['a JSON array', () => withHeaderText('["RS256"]')],
      ['a JSON string', () => withHeaderText('"RS256"')],
      ['JSON null', () => withHeaderText('null')],
      ['a JSON number', () => withHeaderText('1')],
      ['invalid UTF-8', () => withRawHeader([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
      ['BOM-prefixed JSON', () => withHeaderText(`\ufeff${JSON.stringify(HEADER)}`)],
      ['a duplicate alg', () => withHeaderText(`{"alg":"none","alg":"RS256","kid":"${KID}"}`)],
      [
        'a duplicate alg hidden by \\u0061 escapes',
        () => withHeaderText(`{"\\u0061lg":"none","alg":"RS256","kid":"${KID}"}`),
      ],
      ['a duplicate kid', () => withHeaderText(`{"alg":"RS256","kid":"a","kid":"${KID}"}`)],
    ])('denies with header_invalid when the header is %s', (_name, build) => {
      // Act
      const result = inspectToken(build());

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'header_invalid' });
    });
  });

  describe('header_forbidden_param (rows 27-29, 35-38)', () => {
    it.each([
      ['jwk', key.jwk],
      ['jku', 'https://attacker.example/jwks.json'],
      ['x5u', 'https://attacker.example/cert.pem'],
      ['x5c', ['MIIBszCCAVmgAwIBAgIU']],
      ['crit', ['exp']],
      ['b64', false],
      ['cty', 'JWT'],
      ['enc', 'A256GCM'],
      ['zip', 'DEF'],
      ['p2c', 10_000_000],
      ['p2s', 'c2FsdA'],
      ['epk', { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }],
      ['apu', 'YWxpY2U'],
      ['apv', 'Ym9i'],
      ['iv', 'aXY'],
      ['tag', 'dGFn'],
      ['jku', null],
    ])('denies with header_forbidden_param naming %s (value %j)', (name, value) => {
      // Arrange
      const token = withHeader({ ...HEADER, [name]: value });

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'header_forbidden_param' });
      expect(result.ok ? '' : result.detail).toMatch(new RegExp(`^the header carries ${name}: .+`));
    });

    it('row 36: denies b64:false with crit:["b64"] as header_forbidden_param', () => {
      // Arrange
      const token = withHeader({ ...HEADER, b64: false, crit: ['b64'] });

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'header_forbidden_param' });
    });

    it('checks forbidden parameters before alg (a jwk next to alg none)', () => {
      // Arrange
      const token = withHeader({ alg: 'none', kid: KID, jwk: key.jwk });

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'header_forbidden_param' });
    });

    it('accepts parameters IdPs really send (x5t, nonce in an Entra header) and inherited names', () => {
      // Arrange
      const token = withHeader({ ...HEADER, typ: 'JWT', x5t: 'abc', nonce: 'n', toString: 1 });

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result.ok).toBe(true);
    });
  });

  describe('alg_not_allowed (rows 19-21)', () => {
    it.each([
      ['absent', { kid: KID }],
      ['null', { alg: null, kid: KID }],
      ['a number', { alg: 256, kid: KID }],
      ['an array', { alg: ['RS256'], kid: KID }],
      ['an object', { alg: {}, kid: KID }],
      ['empty', { alg: '', kid: KID }],
      ['none', { alg: 'none', kid: KID }],
      ['None', { alg: 'None', kid: KID }],
      ['NONE', { alg: 'NONE', kid: KID }],
      ['nOnE', { alg: 'nOnE', kid: KID }],
      ['HS256', { alg: 'HS256', kid: KID }],
      ['HS384', { alg: 'HS384', kid: KID }],
      ['HS512', { alg: 'HS512', kid: KID }],
      ['rs256 (wrong case)', { alg: 'rs256', kid: KID }],
      ['RS256 with a trailing space', { alg: 'RS256 ', kid: KID }],
      ['ES256K (unsupported)', { alg: 'ES256K', kid: KID }],
      ['a JWE key algorithm', { alg: 'RSA-OAEP-256', kid: KID }],
    ])('denies with alg_not_allowed when alg is %s, reporting neither alg nor kid', (_name, header) => {
      // Act
      const result = inspectToken(withHeader(header));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
      expect(result).not.toHaveProperty('alg');
      expect(result).not.toHaveProperty('kid');
    });

    it.each(ASYMMETRIC_ALGORITHMS)(
      'accepts the asymmetric algorithm %s (the issuer allowlist decides later)',
      (alg) => {
        // Act
        const result = inspectToken(withHeader({ alg, kid: KID }));

        // Assert
        expect(result).toMatchObject({ ok: true, token: { header: { alg } } });
      },
    );

    it('checks alg before kid', () => {
      // Act
      const result = inspectToken(withHeader({ alg: 'none' }));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'alg_not_allowed' });
    });
  });

  describe('kid (rows 30-32)', () => {
    it('row 30: denies with kid_missing when the header has no kid, reporting the checked alg', () => {
      // Act
      const result = inspectToken(withHeader({ alg: 'RS256' }));

      // Assert
      expect(result).toMatchObject({
        ok: false,
        reason: 'kid_missing',
        detail: 'the header has no kid: keys are looked up by kid, never tried in turn',
        alg: 'RS256',
      });
    });

    it.each([
      ['32', 'a number', 42],
      ['32', 'null', null],
      ['32', 'an object', { id: KID }],
      ['32', 'an array', [KID]],
      ['31', 'empty', ''],
      ['31', '129 characters', 'k'.repeat(129)],
      ['31', '10 KB', 'k'.repeat(10_000)],
      ['31', 'CR LF', 'kid\r\nx-injected: 1'],
      ['31', 'a NUL byte', 'kid\u0000'],
      ['31', 'DEL', 'kid\u007f'],
      ['31', 'non-ASCII', 'kïd'],
      ['31', 'a right-to-left override', 'kid\u202e'],
      ['31', 'an ANSI escape', '\u001b[31mkid'],
    ])('row %s: denies with kid_invalid when kid is %s', (_row, _name, kid) => {
      // Act
      const result = inspectToken(withHeader({ alg: 'RS256', kid }));

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'kid_invalid', alg: 'RS256' });
      expect(result).not.toHaveProperty('kid');
    });

    it.each([
      ['a path traversal', '../../../../dev/null'],
      ['an absolute path', '/dev/null'],
      ['SQL', "x' UNION SELECT '1';--"],
      ['a shell pipe', '|sleep 10'],
      ['exactly 128 characters', 'k'.repeat(128)],
      ['a single space', ' '],
    ])('row 31: passes %s through as a printable kid (an exact Map lookup decides later)', (_name, kid) => {
      // Act
      const result = inspectToken(withHeader({ alg: 'RS256', kid }));

      // Assert
      expect(result).toMatchObject({ ok: true, token: { header: { kid } } });
    });
  });

  describe('claims_invalid (rows 41-44)', () => {
    const nested = (depth: number): string =>
      `{"iss":"x","deep":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

    it.each([
      ['41', 'an array', () => withPayloadText('[]')],
      ['41', 'a string', () => withPayloadText('"user-1"')],
      ['41', 'a number', () => withPayloadText('42')],
      ['41', 'null', () => withPayloadText('null')],
      ['41', 'not JSON', () => withPayloadText('iss=https://idp.example.com')],
      ['41', 'BOM-prefixed JSON', () => withPayloadText(`\ufeff${JSON.stringify(CLAIMS)}`)],
      [
        '42',
        'invalid UTF-8',
        () => withRawPayload([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
      ],
      ['43', 'nested 17 deep', () => withPayloadText(nested(17))],
      [
        '44',
        'a duplicate iss',
        () => withPayloadText('{"iss":"https://evil.example","iss":"https://idp.example.com"}'),
      ],
      [
        '44',
        'a duplicate hidden by escapes',
        () => withPayloadText('{"\\u0069ss":"https://evil.example","iss":"x"}'),
      ],
    ])(
      'row %s: denies with claims_invalid when the payload is %s, reporting alg and kid',
      (_row, _name, build) => {
        // Act
        const result = inspectToken(build());

        // Assert
        expect(result).toMatchObject({ ok: false, reason: 'claims_invalid', alg: 'RS256', kid: KID });
      },
    );

    it('accepts a payload nested exactly 16 deep', () => {
      // Act
      const result = inspectToken(withPayloadText(nested(16)));

      // Assert
      expect(result.ok).toBe(true);
    });

    it('row 45: keeps a __proto__ claim as an own property without polluting prototypes', () => {
      // Arrange
      const token = withPayloadText(
        '{"sub":"user-1","__proto__":{"isAdmin":true},"constructor":{"prototype":1}}',
      );

      // Act
      const result = inspectToken(token);

      // Assert
      expect(result.ok).toBe(true);
      const payload = result.ok ? result.token.payload : {};
      expect(Object.hasOwn(payload, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
      expect((payload as { isAdmin?: unknown }).isAdmin).toBeUndefined();
      expect(({} as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    });
  });

  it('checks the kid before the payload', () => {
    // Arrange
    const token = signRaw(key, JSON.stringify({ alg: 'RS256', kid: '' }), '[]');

    // Act
    const result = inspectToken(token);

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'kid_invalid' });
  });

  it.each([
    ['an attacker alg', () => withHeader({ alg: 'EVIL-MARKER', kid: KID })],
    ['an attacker kid', () => withHeader({ alg: 'RS256', kid: 'EVIL-MARKER\r\n' })],
    ['an attacker jku', () => withHeader({ ...HEADER, jku: 'https://EVIL-MARKER.example' })],
    ['an attacker header', () => withHeaderText('["EVIL-MARKER"]')],
    ['an attacker duplicate claim', () => withPayloadText('{"iss":"EVIL-MARKER","iss":"EVIL-MARKER"}')],
    ['an attacker payload', () => withPayloadText('"EVIL-MARKER"')],
    ['an attacker token', () => `EVIL-MARKER ${valid}`],
  ])('never puts token bytes or header/claim values into the detail (%s)', (_name, build) => {
    // Arrange
    const token = build();

    // Act
    const result = inspectToken(token);

    // Assert
    expect(result.ok).toBe(false);
    const detail = result.ok ? '' : result.detail;
    expect(detail).not.toContain('EVIL-MARKER');
    for (const segment of token.split('.')) expect(detail).not.toContain(segment);
  });
});
