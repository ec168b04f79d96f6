/**
 * validateClaims on verified payloads: types, required claims, the time window, ID tokens, tenant,
 * audience and client. Row numbers are the cases of the hostile-input catalogue,
 * test/security/catalogue.test.ts.
 */

import { describe, expect, it } from 'vitest';
import type { IssuerConfig } from '../../src/core/config/schema.ts';
import { inspectToken } from '../../src/core/token/inspect-token.ts';
import { validateClaims } from '../../src/core/token/validate-claims.ts';
import * as idp from '../support/fixtures/idp/tokens.ts';
import { issuerConfig as fixtureIssuer } from '../support/key-store-fixture.ts';
import { epoch, makeKey, signRaw } from '../support/keys.ts';
import { match } from '../support/matchers.ts';

const NOW_MS = Date.UTC(2025, 0, 15, 12, 0, 0);
const NOW = epoch(NOW_MS);
const WINDOW = 43_200;
const OPTIONS = { nowMs: NOW_MS, maxTokenAgeSeconds: WINDOW };
const ISSUER = 'https://idp.example.com';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

const key = await makeKey('RS256', 'kid-1');

const CLAIMS = {
  iss: ISSUER,
  sub: 'user-1',
  aud: 'api://ahi',
  client_id: 'viewer',
  iat: NOW - 60,
  exp: NOW + 600,
};

/** The shared fixture issuer, without clock tolerance (the cases here count exact seconds). */
const issuerConfig = (overrides: Partial<IssuerConfig> = {}): IssuerConfig =>
  fixtureIssuer(ISSUER, { clockToleranceSeconds: 0, ...overrides });

/**
 * The payload exactly as the pipeline sees it: minted, signed, then parsed by inspectToken. Takes an
 * object, or JSON text for values JSON.stringify cannot produce (1e400).
 */
function payloadOf(claims: Record<string, unknown> | string): Record<string, unknown> {
  const json = typeof claims === 'string' ? claims : JSON.stringify(claims);
  const result = inspectToken(signRaw(key, JSON.stringify({ alg: 'RS256', kid: key.kid }), json));
  if (!result.ok) throw new Error(`fixture token rejected: ${result.reason}`);
  return result.token.payload;
}

/** A payload whose claim `name` is the raw JSON number text `raw` (e.g. 1e400, which parses to Infinity). */
function payloadWithNumberText(name: string, raw: string): Record<string, unknown> {
  return payloadOf(JSON.stringify({ ...CLAIMS, [name]: 0 }).replace(`"${name}":0`, `"${name}":${raw}`));
}

/** CLAIMS with some claims replaced (`undefined` removes one). */
function claimsWith(changes: Record<string, unknown>): Record<string, unknown> {
  const claims: Record<string, unknown> = { ...CLAIMS, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete claims[name];
  return claims;
}

describe('validateClaims', () => {
  it('returns the token facts for a valid access token', () => {
    // Arrange
    const payload = payloadOf(claimsWith({ jti: 'j-1', tid: TENANT, nbf: NOW - 60 }));

    // Act
    const result = validateClaims(payload, issuerConfig(), OPTIONS);

    // Assert
    expect(result).toEqual({
      ok: true,
      facts: {
        iss: ISSUER,
        sub: 'user-1',
        clientId: 'viewer',
        tid: TENANT,
        jti: 'j-1',
        iat: NOW - 60,
        exp: NOW + 600,
        nbf: NOW - 60,
      },
    });
  });

  it('omits the optional facts the token does not carry', () => {
    // Arrange
    const payload = payloadOf(claimsWith({ client_id: undefined }));

    // Act
    const result = validateClaims(payload, issuerConfig(), OPTIONS);

    // Assert
    expect(result).toEqual({
      ok: true,
      facts: { iss: ISSUER, sub: 'user-1', iat: NOW - 60, exp: NOW + 600 },
    });
  });

  describe('claim types (rows 47, 50, 54)', () => {
    it.each([
      ['iss is absent', { iss: undefined }],
      ['iss is a number', { iss: 1 }],
      ['iss is an array (row 54)', { iss: ['https://evil.example', ISSUER] }],
      ['sub is a number', { sub: 12_345 }],
      ['sub is null', { sub: null }],
      ['jti is an object', { jti: {} }],
      ['client_id is an array', { client_id: ['viewer'] }],
      ['azp is null', { azp: null }],
      ['appid is a number', { appid: 1 }],
      ['exp is a string (row 47)', { exp: String(NOW + 600) }],
      ['exp is null (row 47)', { exp: null }],
      ['exp is a boolean (row 47)', { exp: true }],
      ['iat is a string', { iat: String(NOW) }],
      ['nbf is a string (row 50)', { nbf: 'tomorrow' }],
      ['nbf is null (row 50)', { nbf: null }],
    ])('denies with claims_invalid when %s', (_name, changes) => {
      // Arrange
      const payload = payloadOf(claimsWith(changes));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'claims_invalid' });
    });

    it.each([
      ['sub', { sub: '' }],
      ['iss', { iss: '' }],
      ['client_id', { client_id: '' }],
      ['azp', { client_id: undefined, azp: '' }],
      ['appid', { client_id: undefined, appid: '' }],
      ['azp, even behind a valid client_id', { azp: '' }],
    ])('denies with claims_invalid when %s is an empty string', (name, changes) => {
      // Arrange
      const payload = payloadOf(claimsWith(changes));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toEqual({
        ok: false,
        reason: 'claims_invalid',
        detail: `${name.split(',')[0]} is an empty string`,
      });
    });

    it('denies an empty client_id with claims_invalid, not as an unknown client, when clientIds are configured', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ client_id: '' }));

      // Act
      const result = validateClaims(payload, issuerConfig({ clientIds: ['viewer'] }), OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'claims_invalid' });
    });

    it.each([
      ['a whitespace-only sub (only "" is refused; values compare exactly)', { sub: ' ' }],
      ['an empty jti (it only identifies the token in the log)', { jti: '' }],
    ])('accepts %s', (_name, changes) => {
      // Act
      const result = validateClaims(payloadOf(claimsWith(changes)), issuerConfig(), OPTIONS);

      // Assert
      expect(result.ok).toBe(true);
    });

    it('checks types before presence (a string exp beats a missing sub)', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ exp: 'soon', sub: undefined }));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'claims_invalid' });
    });
  });

  it('denies with issuer_invalid when iss is not the issuer being validated (row 56)', () => {
    // Arrange
    const payload = payloadOf(claimsWith({ iss: 'https://other-idp.example.com' }));

    // Act
    const result = validateClaims(payload, issuerConfig(), OPTIONS);

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'issuer_invalid' });
  });

  describe('required claims (row 46, RFC 9068 §2.2)', () => {
    it.each(['exp', 'iat', 'sub'])('denies with claim_missing when %s is absent', (name) => {
      // Arrange
      const payload = payloadOf(claimsWith({ [name]: undefined }));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toEqual({ ok: false, reason: 'claim_missing', detail: `${name} is absent` });
    });
  });

  describe('exp (rows 48, 49)', () => {
    it.each([
      ['1e400 (parses to Infinity)', '1e400'],
      ['-1e400 (parses to -Infinity)', '-1e400'],
      ['2^53, above the safe integers', '9007199254740992'],
    ])('denies with token_lifetime_exceeded when exp is %s', (_name, exp) => {
      // Arrange
      const payload = payloadWithNumberText('exp', exp);

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_lifetime_exceeded' });
    });

    it.each([
      ['exactly now (boundary)', NOW],
      ['one second ago', NOW - 1],
      ['negative', -1],
      ['zero', 0],
    ])('denies with token_expired when exp is %s', (_name, exp) => {
      // Arrange
      const payload = payloadOf(claimsWith({ exp }));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_expired' });
    });

    it('accepts exp one millisecond after now', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ exp: NOW + 1 }));

      // Act
      const result = validateClaims(payload, issuerConfig(), { ...OPTIONS, nowMs: (NOW + 1) * 1000 - 1 });

      // Assert
      expect(result.ok).toBe(true);
    });

    it('accepts exp inside the clock tolerance and denies it at the tolerance', () => {
      // Arrange
      const issuer = issuerConfig({ clockToleranceSeconds: 30 });

      // Act
      const inside = validateClaims(payloadOf(claimsWith({ exp: NOW - 29 })), issuer, OPTIONS);
      const at = validateClaims(payloadOf(claimsWith({ exp: NOW - 30 })), issuer, OPTIONS);

      // Assert
      expect(inside.ok).toBe(true);
      expect(at).toMatchObject({ ok: false, reason: 'token_expired' });
    });
  });

  describe('NumericDate values that are not integers (RFC 7519 §2 allows them)', () => {
    it('accepts fractional exp, iat and nbf', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ exp: NOW + 600.5, iat: NOW - 60.25, nbf: NOW - 60.75 }));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({
        ok: true,
        facts: { exp: NOW + 600.5, iat: NOW - 60.25, nbf: NOW - 60.75 },
      });
    });

    it('compares a fractional exp to the millisecond (valid just before it, expired at it)', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ exp: NOW + 0.5 }));

      // Act
      const before = validateClaims(payload, issuerConfig(), { ...OPTIONS, nowMs: NOW * 1000 + 499 });
      const at = validateClaims(payload, issuerConfig(), { ...OPTIONS, nowMs: NOW * 1000 + 500 });

      // Assert
      expect(before.ok).toBe(true);
      expect(at).toMatchObject({ ok: false, reason: 'token_expired' });
    });

    it('accepts exp at 2^53 - 1, the largest value it allows', () => {
      // Arrange
      const payload = payloadWithNumberText('exp', String(Number.MAX_SAFE_INTEGER));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result.ok).toBe(true);
    });

    it('names the bound, not "integer", when exp is beyond it', () => {
      // Arrange
      const payload = payloadWithNumberText('exp', '9007199254740993');

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toEqual({
        ok: false,
        reason: 'token_lifetime_exceeded',
        detail: 'exp is not a finite number up to 2^53 - 1',
      });
    });
  });

  describe('nbf (row 50)', () => {
    it('denies with token_not_yet_valid when nbf is in the future', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ nbf: NOW + 1 }));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({
        ok: false,
        reason: 'token_not_yet_valid',
        detail: match.stringMatching(/nbf/),
      });
    });

    it('accepts nbf equal to now', () => {
      // Act
      const result = validateClaims(payloadOf(claimsWith({ nbf: NOW })), issuerConfig(), OPTIONS);

      // Assert
      expect(result.ok).toBe(true);
    });

    it('accepts nbf up to the clock tolerance ahead and denies it beyond', () => {
      // Arrange
      const issuer = issuerConfig({ clockToleranceSeconds: 30 });

      // Act
      const at = validateClaims(payloadOf(claimsWith({ nbf: NOW + 30 })), issuer, OPTIONS);
      const beyond = validateClaims(payloadOf(claimsWith({ nbf: NOW + 31 })), issuer, OPTIONS);

      // Assert
      expect(at.ok).toBe(true);
      expect(beyond).toMatchObject({ ok: false, reason: 'token_not_yet_valid' });
    });
  });

  describe('iat (rows 51, 52)', () => {
    it('denies with token_not_yet_valid when iat is in the future (row 51)', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ iat: NOW + 1 }));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({
        ok: false,
        reason: 'token_not_yet_valid',
        detail: match.stringMatching(/iat/),
      });
    });

    it('accepts iat up to the clock tolerance ahead and denies it beyond', () => {
      // Arrange
      const issuer = issuerConfig({ clockToleranceSeconds: 30 });

      // Act
      const at = validateClaims(payloadOf(claimsWith({ iat: NOW + 30 })), issuer, OPTIONS);
      const beyond = validateClaims(payloadOf(claimsWith({ iat: NOW + 31 })), issuer, OPTIONS);

      // Assert
      expect(at.ok).toBe(true);
      expect(beyond).toMatchObject({ ok: false, reason: 'token_not_yet_valid' });
    });

    it.each([
      ['one second older than the 12 h window', String(NOW - WINDOW - 1)],
      ['zero', '0'],
      ['negative', '-1'],
    ])('denies with token_lifetime_exceeded when iat is %s (row 52)', (_name, iat) => {
      // Arrange
      const payload = payloadWithNumberText('iat', iat);

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_lifetime_exceeded' });
    });

    it('accepts iat exactly at the edge of the window', () => {
      // Act
      const result = validateClaims(payloadOf(claimsWith({ iat: NOW - WINDOW })), issuerConfig(), OPTIONS);

      // Assert
      expect(result.ok).toBe(true);
    });

    it('extends the window by the clock tolerance', () => {
      // Arrange
      const issuer = issuerConfig({ clockToleranceSeconds: 30 });

      // Act
      const inside = validateClaims(payloadOf(claimsWith({ iat: NOW - WINDOW - 30 })), issuer, OPTIONS);
      const outside = validateClaims(payloadOf(claimsWith({ iat: NOW - WINDOW - 31 })), issuer, OPTIONS);

      // Assert
      expect(inside.ok).toBe(true);
      expect(outside).toMatchObject({ ok: false, reason: 'token_lifetime_exceeded' });
    });

    it('uses the configured window, not 12 h, when it is shorter', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ iat: NOW - 3601 }));

      // Act
      const result = validateClaims(payload, issuerConfig(), { nowMs: NOW_MS, maxTokenAgeSeconds: 3600 });

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_lifetime_exceeded' });
    });
  });

  describe('ID tokens used as access tokens', () => {
    it.each([
      ['typ is ID (Keycloak)', { typ: 'ID' }, 'ID token: typ is ID'],
      ['typ is id in another case', { typ: 'id' }, 'ID token: typ is ID'],
      ['token_use is id (Cognito)', { token_use: 'id' }, 'ID token: token_use is id'],
      ['nonce is present', { nonce: 'n-0S6_WzA2Mj' }, 'ID token: nonce is present'],
      ['nonce is present but null', { nonce: null }, 'ID token: nonce is present'],
      ['at_hash is present', { at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' }, 'ID token: at_hash is present'],
      ['c_hash is present', { c_hash: 'LDktKdoQak3Pk0cnXxCltA' }, 'ID token: c_hash is present'],
      [
        's_hash is present (FAPI detached signature)',
        { s_hash: 'x0ZnL1R2c3Nlbm9uY2U' },
        'ID token: s_hash is present',
      ],
      ['a Keycloak ID token also carries a nonce', { typ: 'ID', nonce: 'n' }, 'ID token: typ is ID'],
      [
        'a token with a nonce says typ JWT, not a Keycloak access type',
        { typ: 'JWT', nonce: 'n' },
        'ID token: nonce is present',
      ],
      [
        'a Keycloak access token carries at_hash',
        { typ: 'Bearer', at_hash: 'h' },
        'ID token: at_hash is present',
      ],
    ])('denies with token_type_invalid naming the marker when %s', (_name, changes, detail) => {
      // Arrange
      const payload = payloadOf(claimsWith(changes));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toEqual({ ok: false, reason: 'token_type_invalid', detail });
    });

    it.each([
      ['a Cognito access token (token_use access)', { token_use: 'access' }],
      [
        'a Keycloak access token (typ Bearer) with the nonce Keycloak copied into it',
        { typ: 'Bearer', nonce: 'n' },
      ],
      ['a Keycloak access token with the lower-case typ bearer and a nonce', { typ: 'bearer', nonce: 'n' }],
      ['a DPoP-bound Keycloak access token (typ DPoP) with a nonce', { typ: 'DPoP', nonce: 'n' }],
      ['a typ that is not a string', { typ: ['ID'] }],
    ])('accepts %s', (_name, changes) => {
      // Act
      const result = validateClaims(payloadOf(claimsWith(changes)), issuerConfig(), OPTIONS);

      // Assert
      expect(result.ok).toBe(true);
    });

    it.each([
      ['typ ID', { typ: 'ID' }],
      ['token_use id', { token_use: 'id' }],
      ['nonce', { nonce: 'n' }],
      ['at_hash', { at_hash: 'h' }],
      ['c_hash', { c_hash: 'h' }],
      ['s_hash', { s_hash: 'h' }],
    ])('accepts a token marked by %s when the issuer sets acceptIdTokens', (_name, changes) => {
      // Arrange
      const payload = payloadOf(claimsWith(changes));

      // Act
      const result = validateClaims(payload, issuerConfig({ acceptIdTokens: true }), OPTIONS);

      // Assert
      expect(result.ok).toBe(true);
    });

    it('still refuses an ID token when acceptIdTokens is false', () => {
      // Act
      const result = validateClaims(
        payloadOf(claimsWith({ typ: 'ID' })),
        issuerConfig({ acceptIdTokens: false }),
        OPTIONS,
      );

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_type_invalid' });
    });

    it('keeps checking audience and client when the issuer sets acceptIdTokens', () => {
      // Arrange: an ID token whose aud is its client, presented to an API that is not that client.
      const payload = payloadOf(claimsWith({ typ: 'ID', aud: 'ohif-viewer' }));

      // Act
      const result = validateClaims(payload, issuerConfig({ acceptIdTokens: true }), OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'audience_invalid' });
    });

    it('checks time before token type (an expired ID token is token_expired)', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ exp: NOW - 1, nonce: 'n' }));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'token_expired' });
    });
  });

  describe("each IdP's documented tokens", () => {
    /** The issuer of the fixture, bound to whatever the token names (its aud), so only the type decides. */
    function issuerOf(claims: Record<string, unknown>, overrides: Partial<IssuerConfig> = {}): IssuerConfig {
      const aud = claims['aud'];
      return {
        issuer: claims['iss'] as string,
        algorithms: ['RS256'],
        clockToleranceSeconds: 0,
        ...(aud === undefined ? {} : { audience: Array.isArray(aud) ? (aud as string[]) : (aud as string) }),
        ...overrides,
      };
    }

    it.each([
      ['Entra ID v1 user', idp.entraV1User],
      ['Entra ID v2 user', idp.entraV2User],
      ['Entra ID v1 app', idp.entraV1App],
      ['Entra ID v2 app', idp.entraV2App],
      ['Keycloak service account', idp.keycloakServiceAccount],
      ['Keycloak user', idp.keycloakUser],
      [
        'Keycloak user, nonce copied in (before 25, or the backwards-compatible mapper)',
        idp.keycloakUserWithNonce,
      ],
      ['Okta user', idp.oktaUser],
      ['Okta service', idp.oktaService],
      ['Auth0 user', idp.auth0User],
      ['Auth0 RFC 9068 service', idp.auth0Rfc9068Service],
      ['Cognito user', idp.cognitoUserAccess],
      ['Cognito service', idp.cognitoServiceAccess],
    ])('accepts the documented %s access token', (_name, build) => {
      // Arrange
      const claims = build(NOW_MS);

      // Act
      const result = validateClaims(payloadOf(claims), issuerOf(claims), OPTIONS);

      // Assert
      expect(result.ok).toBe(true);
    });

    it.each([
      ['Entra ID v1 (hybrid sign-in)', idp.entraV1UserId, 'ID token: c_hash is present'],
      ['Entra ID v2', idp.entraV2UserId, 'ID token: nonce is present'],
      ['Keycloak', idp.keycloakUserId, 'ID token: typ is ID'],
      ['Keycloak token-exchange', idp.keycloakExchangedId, 'ID token: typ is ID'],
      ['Okta', idp.oktaUserId, 'ID token: at_hash is present'],
      ['Auth0', idp.auth0UserId, 'ID token: nonce is present'],
      ['Cognito', idp.cognitoUserId, 'ID token: token_use is id'],
    ])(
      'denies the documented %s ID token with token_type_invalid, naming its marker',
      (_name, build, detail) => {
        // Arrange
        const claims = build(NOW_MS);

        // Act
        const result = validateClaims(payloadOf(claims), issuerOf(claims), OPTIONS);

        // Assert
        expect(result).toEqual({ ok: false, reason: 'token_type_invalid', detail });
      },
    );
  });

  describe('Entra ID tenant (row 57)', () => {
    const entra = issuerConfig({ tenantId: TENANT });

    it('accepts the configured tid, ignoring ASCII case', () => {
      // Act
      const result = validateClaims(payloadOf(claimsWith({ tid: TENANT.toUpperCase() })), entra, OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: true, facts: { tid: TENANT.toUpperCase() } });
    });

    it.each([
      ['absent', undefined],
      ['another tenant', '00000000-0000-0000-0000-000000000000'],
      ['not a GUID', 'common'],
      ['a number', 72],
      ['an array holding the tenant', [TENANT]],
    ])('denies with tenant_not_allowed when tid is %s', (_name, tid) => {
      // Arrange
      const payload = payloadOf(claimsWith({ tid }));

      // Act
      const result = validateClaims(payload, entra, OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'tenant_not_allowed' });
    });

    it('checks the tenant before the audience', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ tid: 'common', aud: 'https://graph.microsoft.com' }));

      // Act
      const result = validateClaims(payload, entra, OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'tenant_not_allowed' });
    });
  });

  describe('audience (rows 58-61)', () => {
    const sixteenWithOurs = [
      ...Array.from({ length: 15 }, (_, i) => `https://other-${i}.example`),
      'api://ahi',
    ];

    it.each([
      ['a string equal to the configured audience', 'api://ahi', 'api://ahi'],
      ['an array holding ours among others (row 59)', ['https://evil.example', 'api://ahi'], 'api://ahi'],
      ['16 audiences including ours', sixteenWithOurs, 'api://ahi'],
      ['a string matching one of several configured', 'api://ahi-2', ['api://ahi', 'api://ahi-2']],
    ])('accepts aud as %s', (_name, aud, audience) => {
      // Arrange
      const payload = payloadOf(claimsWith({ aud }));

      // Act
      const result = validateClaims(payload, issuerConfig({ audience }), OPTIONS);

      // Assert
      expect(result.ok).toBe(true);
    });

    it.each([
      ['58', 'absent', undefined],
      ['58', 'an empty array', []],
      ['58', 'an empty string', ''],
      ['58', 'null', null],
      ['58', 'a number', 1],
      ['58', 'an object', { aud: 'api://ahi' }],
      ['59', '17 audiences including ours', [...sixteenWithOurs, 'https://one-more.example']],
      ['60', 'an array with non-strings', [1, {}, 'api://ahi']],
      ['60', 'an array with an empty string', ['', 'api://ahi']],
      ['60', 'an array with null', [null, 'api://ahi']],
      ['61', 'another resource (Graph)', 'https://graph.microsoft.com'],
      ['61', 'ours in another case', 'API://AHI'],
      ['61', 'ours with a trailing slash', 'api://ahi/'],
    ])('row %s: denies with audience_invalid when aud is %s', (_row, _name, aud) => {
      // Arrange
      const payload = payloadOf(claimsWith({ aud }));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'audience_invalid' });
    });

    it('ignores aud when the issuer configures no audience', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ aud: undefined }));
      const { audience: _unused, ...rest } = issuerConfig({ clientIds: ['viewer'] });

      // Act
      const result = validateClaims(payload, rest, OPTIONS);

      // Assert
      expect(result.ok).toBe(true);
    });
  });

  describe('client allowlist (row 62)', () => {
    const clients = issuerConfig({ clientIds: ['viewer', 'pacs'] });

    it.each([
      ['client_id (RFC 9068)', { client_id: 'viewer' }],
      ['azp (OIDC)', { client_id: undefined, azp: 'pacs' }],
      ['appid (Entra ID v1)', { client_id: undefined, appid: 'viewer' }],
    ])('accepts an allowed client named by %s', (_name, changes) => {
      // Act
      const result = validateClaims(payloadOf(claimsWith(changes)), clients, OPTIONS);

      // Assert
      expect(result.ok).toBe(true);
    });

    it.each([
      ['the client is not in the list', { client_id: 'attacker-app' }],
      ['no client claim is present', { client_id: undefined }],
      [
        'client_id is disallowed although azp is allowed (client_id wins)',
        { client_id: 'attacker-app', azp: 'viewer' },
      ],
      [
        'azp is disallowed although appid is allowed (azp wins)',
        { client_id: undefined, azp: 'x', appid: 'viewer' },
      ],
      ['the client differs only in case', { client_id: 'Viewer' }],
    ])('denies with client_not_allowed when %s', (_name, changes) => {
      // Act
      const result = validateClaims(payloadOf(claimsWith(changes)), clients, OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'client_not_allowed' });
    });

    it('reports the client from the same precedence when no allowlist is configured', () => {
      // Arrange
      const payload = payloadOf(claimsWith({ client_id: undefined, azp: 'spa', appid: 'legacy' }));

      // Act
      const result = validateClaims(payload, issuerConfig(), OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: true, facts: { clientId: 'spa' } });
    });

    it('checks the audience before the client', () => {
      // Arrange
      const payload = payloadOf(
        claimsWith({ aud: 'https://graph.microsoft.com', client_id: 'attacker-app' }),
      );

      // Act
      const result = validateClaims(payload, clients, OPTIONS);

      // Assert
      expect(result).toMatchObject({ ok: false, reason: 'audience_invalid' });
    });
  });

  it.each([
    ['a wrong-typed sub', { sub: 7 }, {}],
    ['a foreign iss', { iss: 'https://EVIL-MARKER.example' }, {}],
    ['a foreign aud', { aud: ['EVIL-MARKER'] }, {}],
    ['a foreign client', { client_id: 'EVIL-MARKER' }, { clientIds: ['viewer'] }],
    ['a foreign tenant', { tid: 'EVIL-MARKER' }, { tenantId: TENANT }],
    ['an ID token', { token_use: 'id', nonce: 'EVIL-MARKER' }, {}],
  ])('never puts claim values into the detail (%s)', (_name, changes, overrides) => {
    // Arrange
    const payload = payloadOf(claimsWith(changes));

    // Act
    const result = validateClaims(payload, issuerConfig(overrides), OPTIONS);

    // Assert
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.detail).not.toMatch(/EVIL-MARKER|user-1|viewer/);
  });

  it('row 45: takes claims only from own properties, never from the prototype chain', () => {
    // Arrange: what a merged or spread `__proto__` claim would produce.
    const inherited = { aud: 'api://ahi', tid: TENANT };
    const payload = Object.assign(Object.create(inherited) as Record<string, unknown>, {
      iss: ISSUER,
      sub: 'user-1',
      iat: NOW - 60,
      exp: NOW + 600,
    });

    // Act
    const result = validateClaims(payload, issuerConfig(), OPTIONS);

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'audience_invalid' });
  });

  it('denies with internal_error instead of throwing when the payload cannot be read', () => {
    // Arrange
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
        getOwnPropertyDescriptor: () => {
          throw new Error('boom');
        },
      },
    );

    // Act
    const result = validateClaims(hostile, issuerConfig(), OPTIONS);

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'internal_error' });
  });
});

describe('validateClaims with non-finite iat or nbf', () => {
  it.each([
    ['iat', '1e400'],
    ['iat', '-1e400'],
    ['nbf', '1e400'],
    ['nbf', '-1e400'],
  ])('denies with claims_invalid when %s is %s (present but not finite)', (name, raw) => {
    // Arrange
    const payload = payloadWithNumberText(name, raw);

    // Act
    const result = validateClaims(payload, issuerConfig(), OPTIONS);

    // Assert
    expect(result).toMatchObject({ ok: false, reason: 'claims_invalid' });
  });
});
