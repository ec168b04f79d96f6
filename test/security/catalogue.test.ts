/**
 * The hostile-input catalogue (SECURITY.md "What is defended, and how") as 68 numbered rows, each run
 * through the built bundle (dist/handler.mjs) against loopback JWKS endpoints, with tokens minted at
 * test time and a frozen clock. Rows 19, 21, 25, 36, 40, 59, 63 and 68 deliberately differ from its
 * required outcome, and say why.
 */

import { createPrivateKey, randomUUID, sign as nodeSign } from 'node:crypto';
import { importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isTokenValidFor, type Reason } from '../../src/core/decision/reason-codes.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { b64url, makeKey, signToken, type TestKey } from '../support/keys.ts';
import { type AuthResult, type LoadedHandler, loadHandler } from '../support/load-handler.ts';
import { hygieneProblems } from '../support/log-hygiene.ts';
import { decide as decideWith, pipelineDeps } from '../support/security-pipeline.ts';
import {
  forgeForExponentOne,
  highSTwin,
  hmacToken,
  minted,
  mintedTokens,
  nonCanonicalTwin,
  P256_ORDER,
  p1363,
  replaceSegment,
  signatureOf,
  signBytes,
  signSegments,
  withSignature,
} from '../support/hostile-tokens.ts';
import { type JwkGroup, loadVectors } from '../support/wycheproof.ts';

// ── Fixed facts ────────────────────────────────────────────────────────────────────────────────

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const S = NOW / 1000;
const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const OTHER_DS = 'ffffffffffffffffffffffffffffffff';
const AUD = 'https://dicomweb.example.org';
const MAIN_ISS = 'https://idp.example.org/realms/main';
const AT_ISS = 'https://at.example.org';
const B_ISS = 'https://b.example.org';
const NARROW_ISS = 'https://narrow.example.org';
const TENANT = '1fa9468c-81e2-46be-8fb6-57d421e024ba';
const OTHER_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ENTRA_ISS = `https://login.microsoftonline.com/${TENANT}/v2.0`;
const ENTRA_AUD = 'api://ahi-dicomweb';
const RO = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';
const RW = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadWrite';
const GROUP = 'c0ffee00-1111-4222-8333-444455556666';
const ADMIN_OID = '5d6f7a8b-0c1d-4e2f-8a9b-0c1d2e3f4a5b';
const SUB = 'a7c1e0d2-5b3f-4c8e-9d1a-2f6b7c8d9e0f';

/** Personal and patient values carried by the tokens: none may ever reach a log line. */
const PERSONAL = {
  name: 'Janet Q. Patientson',
  given_name: 'Janet',
  family_name: 'Patientson',
  email: 'janet.patientson@hospital.example',
  preferred_username: 'jpatientson',
  phone_number: '+1-555-0100-7781',
  birthdate: '1961-07-04',
  patient_mrn: 'MRN-0042-7781',
} as const;
const ADMIN_EMAIL = 'chief.radiologist@hospital.example';
const SECRETS = [...Object.values(PERSONAL), ADMIN_EMAIL];

// ── Keys (minted now, never committed) ─────────────────────────────────────────────────────────

const [mainRs, mainRs2, mainEs, mainPs, dupA, dupB, weak, attacker, atEs, entraKey, bKey, bSameKid, noAlg] =
  await Promise.all([
    makeKey('RS256', 'main-rs'),
    makeKey('RS256', 'main-rs-2'),
    makeKey('ES256', 'main-es'),
    makeKey('PS256', 'main-ps'),
    makeKey('RS256', 'dup'),
    makeKey('RS256', 'dup'),
    makeKey('RS256', 'weak-1024', 1024),
    makeKey('RS256', 'attacker'),
    makeKey('ES256', 'at-es'),
    makeKey('RS256', 'entra-common-1'),
    makeKey('RS256', 'b-1'),
    makeKey('RS256', 'main-rs'),
    makeKey('RS256', 'no-alg'),
  ]);

/** An RSA JWK with e = 1 (Wycheproof exponentOne): its "signatures" can be forged by anyone. */
const E_ONE_JWK = { kty: 'RSA', n: mainRs2.jwk.n, e: 'AQ', kid: 'e-one', alg: 'RS256', use: 'sig' };

/** Wycheproof's ROCA-vulnerable 2049-bit key, with its private half (json_web_key_test.json). */
const rocaGroup = loadVectors<JwkGroup>('json_web_key_test.json').testGroups.find(
  (group) => group.comment === 'jws_rsa_roca_key',
)!;
const rocaPrivate = rocaGroup.private.keys[0]!;
const roca: TestKey = {
  kid: 'roca',
  alg: 'RS256',
  privateKey: createPrivateKey({ key: rocaPrivate as never, format: 'jwk' }),
  publicKey: createPrivateKey({ key: rocaPrivate as never, format: 'jwk' }),
  // Never imported by the key store (parse-jwks drops ROCA keys); present for the TestKey shape.
  verifyKey: await importJWK(
    { kty: 'RSA', n: rocaPrivate['n'] as string, e: rocaPrivate['e'] as string },
    'RS256',
  ),
  jwk: {
    kty: 'RSA',
    n: rocaPrivate['n'] as string,
    e: rocaPrivate['e'] as string,
    kid: 'roca',
    alg: 'RS256',
  },
};

const withoutAlg = ({ alg: _alg, ...jwk }: TestKey['jwk']) => jwk;

// ── Configuration (a public contract: docs/configuration.md) ───────────────────────────────

function config(idpUrl: string) {
  return {
    issuers: [
      {
        issuer: MAIN_ISS,
        jwksUri: `${idpUrl}/main/jwks`,
        audience: AUD,
        clientIds: ['ohif-viewer', 'pacs-gateway'],
        algorithms: ['RS256', 'PS256', 'ES256'],
      },
      {
        issuer: AT_ISS,
        jwksUri: `${idpUrl}/at/jwks`,
        audience: AUD,
        tokenType: 'at+jwt',
        algorithms: ['ES256'],
      },
      { issuer: ENTRA_ISS, jwksUri: `${idpUrl}/entra/common/keys`, audience: ENTRA_AUD, tenantId: TENANT },
      { issuer: B_ISS, jwksUri: `${idpUrl}/b/jwks`, audience: AUD },
      { issuer: NARROW_ISS, jwksUri: `${idpUrl}/narrow/jwks`, audience: AUD },
    ],
    datastores: [DS],
    rules: [
      { name: 'writers', claims: { scope: 'dicom.write' }, roleArn: RW },
      { name: 'readers', claims: { scope: 'dicom.read' }, operations: ['read'], roleArn: RO },
      {
        name: 'entra-app-readers',
        issuer: ENTRA_ISS,
        claims: { roles: 'DICOM.Reader' },
        operations: ['read'],
        roleArn: RO,
      },
      { name: 'radiology-group', claims: { groups: GROUP }, operations: ['read'], roleArn: RO },
      { name: 'named-admin', claims: { oid: ADMIN_OID }, roleArn: RW },
    ],
  };
}

// ── Token builders ─────────────────────────────────────────────────────────────────────────────

type Claims = Record<string, unknown>;

/** A valid access token's claims for MAIN_ISS at NOW, with personal claims that must never be logged. */
const mainClaims = (extra: Claims = {}): Claims => ({
  iss: MAIN_ISS,
  sub: SUB,
  aud: AUD,
  client_id: 'ohif-viewer',
  scope: 'openid dicom.read',
  iat: S - 60,
  exp: S + 600,
  jti: randomUUID(),
  ...PERSONAL,
  ...extra,
});

/** JSON text of the claims, with optional raw members first (numbers JSON.stringify cannot write, duplicates). */
const claimsText = (extra: Claims = {}, rawMembers = ''): string => {
  const json = JSON.stringify(mainClaims(extra));
  return rawMembers === '' ? json : `{${rawMembers},${json.slice(1)}`;
};

const mainToken = async (extra: Claims = {}, header: Claims = {}, key: TestKey = mainRs) =>
  minted(await signToken(key, mainClaims(extra), header));

const rawToken = (headerText: string | Uint8Array, payloadText: string | Uint8Array, key: TestKey = mainRs) =>
  signBytes(key, headerText, payloadText);

/** Like mainToken, but signed with node:crypto, which (unlike jose) signs with any key and any crit. */
const rawMainToken = (extra: Claims = {}, header: Claims = {}, key: TestKey = mainRs) =>
  rawToken(JSON.stringify({ alg: key.alg, kid: key.kid, ...header }), claimsText(extra), key);

const mainHeader = (extra: Claims = {}) => JSON.stringify({ alg: 'RS256', kid: 'main-rs', ...extra });

const atClaims = (extra: Claims = {}): Claims => ({
  iss: AT_ISS,
  sub: 'svc-dicom-reader',
  aud: AUD,
  client_id: 'dicom-reader',
  scope: 'dicom.read',
  iat: S - 5,
  exp: S + 300,
  jti: randomUUID(),
  ...extra,
});

const entraClaims = (extra: Claims = {}): Claims => ({
  iss: ENTRA_ISS,
  aud: ENTRA_AUD,
  tid: TENANT,
  oid: '39e2584e-962e-4f91-b6e1-538c04960f50',
  sub: '39e2584e-962e-4f91-b6e1-538c04960f50',
  azp: '55fe42ed-27e9-45ea-9c98-3401075e54cf',
  idtyp: 'app',
  roles: ['DICOM.Reader'],
  ver: '2.0',
  iat: S - 60,
  nbf: S - 60,
  exp: S + 3600,
  ...extra,
});

const entraToken = async (extra: Claims = {}) => minted(await signToken(entraKey, entraClaims(extra)));

/** Depth-n nested arrays as JSON text. */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

// ── Harness ────────────────────────────────────────────────────────────────────────────────────

let idp: IdpServer;
let handler: LoadedHandler;
const covered = new Set<number>();

const event = (bearerToken: unknown, operation: unknown = 'GetDICOMInstance', datastoreId: unknown = DS) => ({
  datastoreId,
  operation,
  bearerToken,
});

interface Outcome {
  result: AuthResult;
  reason: string | undefined;
  record: Record<string, unknown> | undefined;
}

/** Invokes the bundle once and reads the one audit line that invocation wrote. */
async function invoke(input: unknown): Promise<Outcome> {
  const from = handler.lines.length;
  const result = await handler.invoke(input);
  const decisions = handler.lines
    .slice(from)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record['message'] === 'authorization decision');
  expect(decisions, 'exactly one audit line per invocation').toHaveLength(1);
  const record = decisions[0];
  return { result, reason: record?.['reason'] as string | undefined, record };
}

const answerFor = (reason: Reason, role = ''): AuthResult =>
  reason === 'allowed'
    ? { isTokenValid: true, roleArn: role }
    : { isTokenValid: isTokenValidFor(reason), roleArn: '' };

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  idp = await startIdpServer();
  idp.on('/main/jwks', {
    kind: 'json',
    body: {
      keys: [
        mainRs.jwk,
        mainRs2.jwk,
        mainEs.jwk,
        mainPs.jwk,
        dupA.jwk,
        dupB.jwk,
        weak.jwk,
        E_ONE_JWK,
        roca.jwk,
      ],
    },
  });
  idp.on('/at/jwks', { kind: 'json', body: { keys: [atEs.jwk] } });
  // Entra ID publishes its shared ("common") keys without alg.
  idp.on('/entra/common/keys', { kind: 'json', body: { keys: [withoutAlg(entraKey.jwk)] } });
  idp.on('/b/jwks', { kind: 'json', body: { keys: [bKey.jwk, bSameKid.jwk] } });
  idp.on('/narrow/jwks', { kind: 'json', body: { keys: [withoutAlg(noAlg.jwk)] } });
  // An attacker's IdP on the same loopback server: nothing may ever fetch from it (rows 28, 55).
  idp.on('/attacker/.well-known/openid-configuration', {
    kind: 'json',
    body: { issuer: `${idp.url}/attacker`, jwks_uri: `${idp.url}/attacker/jwks` },
  });
  idp.on('/attacker/jwks', { kind: 'json', body: { keys: [attacker.jwk] } });
  // The plain subject mode: row 67 proves that even a logged subject is sanitised and capped.
  handler = await loadHandler({
    AUTHORIZER_CONFIG: JSON.stringify(config(idp.url)),
    AUTHORIZER_AUDIT_SUBJECT: 'plain',
  });
});

afterAll(async () => {
  vi.useRealTimers();
  await idp?.close();
});

const attackerHits = () =>
  idp.hits('/attacker/jwks') +
  idp.hits('/attacker/.well-known/openid-configuration') +
  idp.hits('/attacker/cert.pem');

// ── The table ──────────────────────────────────────────────────────────────────────────────────

interface Case {
  row: number;
  /** A behaviour sentence without its reason, e.g. "denies a newline inside the signature". */
  does: string;
  reason: Reason;
  /** The full HealthImaging event. */
  event: () => unknown;
  /** The role of an allowed decision. */
  role?: string;
}

/** A case whose event carries `token()` for GetDICOMInstance on the configured datastore. */
const t = (
  row: number,
  does: string,
  reason: Reason,
  token: () => unknown,
  options: { operation?: string; role?: string } = {},
): Case => ({
  row,
  does,
  reason,
  event: async () => event(await token(), options.operation ?? 'GetDICOMInstance'),
  ...(options.role === undefined ? {} : { role: options.role }),
});

const e = (row: number, does: string, reason: Reason, input: () => unknown): Case => ({
  row,
  does,
  reason,
  event: input,
});

const segs = async () => (await mainToken()).split('.') as [string, string, string];

const CASES: Case[] = [
  // Row 1: the AHI event shape.
  e(1, 'denies an event without bearerToken', 'token_missing', () => ({
    datastoreId: DS,
    operation: 'GetDICOMInstance',
  })),
  e(1, 'denies an empty bearerToken', 'token_missing', () => event('')),
  e(1, 'denies a numeric bearerToken', 'token_missing', () => event(42)),
  e(1, 'denies an object bearerToken', 'token_missing', () => event({ token: 'x' })),
  e(1, 'denies an array bearerToken', 'token_missing', () => event(['a.b.c'])),
  e(1, 'denies a null bearerToken', 'token_missing', () => event(null)),
  e(1, 'denies an event without datastoreId', 'malformed_request', () => ({
    operation: 'GetDICOMInstance',
    bearerToken: 'a.b.c',
  })),
  e(1, 'denies an event without operation', 'malformed_request', () => ({
    datastoreId: DS,
    bearerToken: 'a.b.c',
  })),
  e(1, 'denies a null event', 'malformed_request', () => null),
  e(1, 'denies an array event', 'malformed_request', () => [DS, 'GetDICOMInstance', 'a.b.c']),
  e(1, 'denies a string event', 'malformed_request', () => 'a.b.c'),
  e(1, 'denies an upper-case datastoreId', 'malformed_request', () =>
    event('a.b.c', 'GetDICOMInstance', DS.toUpperCase()),
  ),
  e(1, 'denies a 31-character datastoreId', 'malformed_request', () =>
    event('a.b.c', 'GetDICOMInstance', DS.slice(1)),
  ),
  e(1, 'denies a numeric operation', 'malformed_request', () => event('a.b.c', 42)),

  // Row 2: configured datastore and known operations.
  e(
    2,
    'denies a datastore outside the configured allowlist, even with a valid token',
    'unknown_datastore',
    async () => event(await mainToken(), 'GetDICOMInstance', OTHER_DS),
  ),
  t(2, 'denies an operation HealthImaging does not have', 'unknown_operation', () => mainToken(), {
    operation: 'DeleteDICOMStudy',
  }),
  t(2, 'denies an operation name in the wrong case', 'unknown_operation', () => mainToken(), {
    operation: 'getdicominstance',
  }),
  t(2, 'denies an operation class used as an operation', 'unknown_operation', () => mainToken(), {
    operation: 'read',
  }),

  // Row 3: no "Bearer " stripping.
  t(
    3,
    'denies a token with a "Bearer " prefix',
    'token_malformed',
    async () => `Bearer ${await mainToken()}`,
  ),
  t(
    3,
    'denies a token with a "bearer " prefix',
    'token_malformed',
    async () => `bearer ${await mainToken()}`,
  ),
  t(
    3,
    'denies a token with a "BEARER " prefix',
    'token_malformed',
    async () => `BEARER ${await mainToken()}`,
  ),

  // Row 4: no trimming.
  t(4, 'denies a leading space', 'token_malformed', async () => ` ${await mainToken()}`),
  t(4, 'denies a trailing space', 'token_malformed', async () => `${await mainToken()} `),
  t(4, 'denies a leading TAB', 'token_malformed', async () => `\t${await mainToken()}`),
  t(4, 'denies a trailing CR LF', 'token_malformed', async () => `${await mainToken()}\r\n`),
  t(4, 'denies a leading LF', 'token_malformed', async () => `\n${await mainToken()}`),

  // Row 5: ASCII-only grammar.
  t(5, 'denies a leading NBSP', 'token_malformed', async () => `\u00a0${await mainToken()}`),
  t(5, 'denies a zero-width space inside the payload', 'token_malformed', async () => {
    const [h, p, s] = await segs();
    return `${h}.${p.slice(0, 10)}\u200b${p.slice(10)}.${s}`;
  }),
  t(5, 'denies a leading byte-order mark', 'token_malformed', async () => `\ufeff${await mainToken()}`),
  t(5, 'denies fullwidth dots as separators', 'token_malformed', async () =>
    (await mainToken()).replaceAll('.', '\uff0e'),
  ),
  t(5, 'denies a right-to-left override', 'token_malformed', async () => `\u202e${await mainToken()}`),

  // Row 6: whitespace inside the signature (jose would accept it).
  t(6, 'denies a space inside the signature segment', 'token_malformed', async () => {
    const token = await mainToken();
    const s = signatureOf(token).toString('base64url');
    return replaceSegment(token, 2, `${s.slice(0, 100)} ${s.slice(100)}`);
  }),
  t(6, 'denies a newline inside the signature segment', 'token_malformed', async () => {
    const token = await mainToken();
    const s = token.split('.')[2] ?? '';
    return replaceSegment(token, 2, `${s.slice(0, 64)}\n${s.slice(64)}`);
  }),

  // Row 7: padding.
  t(7, 'denies == padding appended to the signature', 'token_malformed', async () => {
    const token = await mainToken();
    return replaceSegment(token, 2, `${token.split('.')[2] ?? ''}==`);
  }),
  t(7, 'denies = padding appended to the header', 'token_malformed', async () => {
    const [h, p, s] = await segs();
    return `${h}=.${p}.${s}`;
  }),

  // Row 8: non-canonical base64url.
  t(8, 'denies a signature whose last character has unused bits set', 'token_malformed', async () => {
    const token = await mainToken();
    return replaceSegment(token, 2, nonCanonicalTwin(token.split('.')[2] ?? ''));
  }),

  // Row 9: standard alphabet.
  t(9, 'denies a + in the signature', 'token_malformed', async () => {
    const token = await mainToken();
    return replaceSegment(token, 2, `+${(token.split('.')[2] ?? '').slice(1)}`);
  }),
  t(9, 'denies a / in the signature', 'token_malformed', async () => {
    const token = await mainToken();
    return replaceSegment(token, 2, `/${(token.split('.')[2] ?? '').slice(1)}`);
  }),

  // Row 10: extra components.
  t(10, 'denies a trailing dot', 'token_malformed', async () => `${await mainToken()}.`),
  t(10, 'denies a fourth segment', 'token_malformed', async () => `${await mainToken()}.eyJ4Ijp7fX0`),

  // Row 11: missing components.
  t(11, 'denies a missing signature with its dot kept', 'token_malformed', async () => {
    const [h, p] = await segs();
    return `${h}.${p}.`;
  }),
  t(11, 'denies a missing signature and dot', 'token_malformed', async () => {
    const [h, p] = await segs();
    return `${h}.${p}`;
  }),
  t(11, 'denies two bare dots', 'token_malformed', () => '..'),
  t(11, 'denies an empty header segment', 'token_malformed', async () => {
    const [, p, s] = await segs();
    return `.${p}.${s}`;
  }),
  t(11, 'denies an empty payload segment', 'token_malformed', async () => {
    const [h, , s] = await segs();
    return `${h}..${s}`;
  }),

  // Row 12: JWE where a JWS is expected (never decrypted).
  t(12, 'denies a five-segment JWE compact token', 'token_malformed', () =>
    [
      b64url('{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"main-rs"}'),
      'AAAA',
      'BBBBBBBBBBBBBBBB',
      'CCCC',
      'DDDD',
    ].join('.'),
  ),

  // Row 13: JSON serialization.
  t(13, 'denies the flattened JSON serialization of a valid token', 'token_malformed', async () => {
    const [h, p, s] = await segs();
    return JSON.stringify({ protected: h, payload: p, signature: s });
  }),
  t(13, 'denies the general JSON serialization of a valid token', 'token_malformed', async () => {
    const [h, p, s] = await segs();
    return JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] });
  }),

  // Row 14: size cap before decoding.
  t(14, 'denies a validly signed 2 MB token', 'token_too_large', () =>
    mainToken({ pad: 'x'.repeat(2_000_000) }),
  ),
  t(14, 'denies 4 MB of base64url garbage', 'token_too_large', () => 'A'.repeat(4_000_000)),
  t(14, 'denies a token one character over the 16 KiB cap', 'token_too_large', () => 'a'.repeat(16_385)),
  t(
    14,
    'accepts a validly signed 15 KB token under the cap',
    'allowed',
    () => mainToken({ pad: 'x'.repeat(10_500) }),
    {
      role: RO,
    },
  ),

  // Row 15: millions of dots.
  t(15, 'denies five million dots', 'token_too_large', () => '.'.repeat(5_000_000)),
  t(15, 'denies sixteen thousand dots under the cap', 'token_malformed', () => '.'.repeat(16_000)),

  // Row 16: the header must be a strict JSON object.
  t(16, 'denies a header that is not JSON', 'header_invalid', () => rawToken('not json', claimsText())),
  t(16, 'denies a header that is a JSON array', 'header_invalid', () =>
    rawToken('["RS256","main-rs"]', claimsText()),
  ),
  t(16, 'denies a header that is a JSON string', 'header_invalid', () => rawToken('"RS256"', claimsText())),
  t(16, 'denies a header that is JSON null', 'header_invalid', () => rawToken('null', claimsText())),
  t(16, 'denies a header with invalid UTF-8', 'header_invalid', () =>
    rawToken(
      Buffer.concat([Buffer.from('{"alg":"RS256","kid":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      claimsText(),
    ),
  ),
  t(16, 'denies a header starting with a byte-order mark', 'header_invalid', () =>
    rawToken(`\ufeff${mainHeader()}`, claimsText()),
  ),

  // Row 17: header size and nesting (no separate header cap: the token cap, depth 4, 64 members).
  t(17, 'denies a 1.9 MB header with 100k members', 'token_too_large', () =>
    rawToken(
      `{"alg":"RS256","kid":"main-rs",${Array.from({ length: 100_000 }, (_, i) => `"m${i}":0`).join(',')}}`,
      claimsText(),
    ),
  ),
  t(17, 'denies a header with 65 members under the size cap', 'token_too_large', () =>
    rawToken(
      `{"alg":"RS256","kid":"main-rs",${Array.from({ length: 63 }, (_, i) => `"m${i}":0`).join(',')}}`,
      claimsText(),
    ),
  ),
  t(17, 'denies a header nested five levels deep', 'token_too_large', () =>
    rawToken(mainHeader({ x: { a: { b: { c: {} } } } }), claimsText()),
  ),
  t(17, 'denies an 800 KB nested header', 'token_too_large', () =>
    rawToken(`{"alg":"RS256","kid":"main-rs","x":${nested(400_000)}}`, claimsText()),
  ),
  t(17, 'denies a deeply nested header under the size cap', 'token_too_large', () =>
    rawToken(`{"alg":"RS256","kid":"main-rs","x":${nested(3000)}}`, claimsText()),
  ),

  // Row 18: duplicate header names.
  t(18, 'denies a duplicated alg', 'header_invalid', () =>
    rawToken('{"alg":"none","alg":"RS256","kid":"main-rs"}', claimsText()),
  ),
  t(18, 'denies a duplicate hidden by a unicode escape', 'header_invalid', () =>
    rawToken('{"alg":"RS256","kid":"main-rs","\\u0061lg":"none"}', claimsText()),
  ),

  // Row 19: alg none in every casing (with a signature present, so the header is what decides).
  ...['none', 'None', 'NONE', 'nOnE'].map((alg) =>
    t(19, `denies alg ${alg}`, 'alg_not_allowed', () =>
      rawToken(JSON.stringify({ alg, kid: 'main-rs' }), claimsText()),
    ),
  ),
  // Differs from the row only in the code: jwt_tool's none attack drops the signature, and an empty
  // third segment fails the grammar before the header is read.
  t(19, 'denies alg none with the signature stripped (grammar first)', 'token_malformed', () => {
    const token = rawToken('{"alg":"none","kid":"main-rs"}', claimsText());
    return `${token.split('.').slice(0, 2).join('.')}.`;
  }),

  // Row 20: HMAC key confusion with the RSA public key.
  t(20, 'denies HS256 keyed with the RSA public key PEM', 'alg_not_allowed', () =>
    hmacToken(
      { alg: 'HS256', kid: 'main-rs' },
      mainClaims(),
      mainRs.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ),
  ),
  t(20, 'denies HS256 keyed with the RSA modulus bytes', 'alg_not_allowed', () =>
    hmacToken({ alg: 'HS256', kid: 'main-rs' }, mainClaims(), Buffer.from(String(mainRs.jwk.n), 'base64url')),
  ),

  // Row 21: blank HMAC secret, null signatures.
  t(21, 'denies HS256 with a blank secret', 'alg_not_allowed', () =>
    hmacToken({ alg: 'HS256', kid: 'main-rs' }, mainClaims(), ''),
  ),
  t(21, 'denies an all-zero RS256 signature', 'signature_invalid', async () =>
    withSignature(await mainToken(), Buffer.alloc(256)),
  ),
  t(21, 'denies a one-byte zero signature', 'signature_invalid', async () =>
    withSignature(await mainToken(), Buffer.alloc(1)),
  ),
  // jwt_tool -X n strips the signature: an empty segment is a grammar failure (row 11).
  t(21, 'denies a stripped signature (grammar first)', 'token_malformed', async () => {
    const [h, p] = await segs();
    return `${h}.${p}.`;
  }),

  // Row 22: one key, one alg.
  t(22, 'denies RS256 with a key whose JWK alg is PS256', 'kid_unknown', () =>
    mainToken({}, { alg: 'RS256' }, mainPs),
  ),
  t(22, 'denies PS256 with an RSA key without alg when the issuer pins RS256', 'alg_not_allowed', async () =>
    minted(await signToken(noAlg, mainClaims({ iss: NARROW_ISS, client_id: undefined }), { alg: 'PS256' })),
  ),
  t(
    22,
    'accepts RS256 with an RSA key without alg when the issuer pins RS256',
    'allowed',
    async () => minted(await signToken(noAlg, mainClaims({ iss: NARROW_ISS, client_id: undefined }))),
    { role: RO },
  ),

  // Row 23: psychic signatures (CVE-2022-21449).
  t(23, 'denies an ES256 signature with r = 0 and s = 0', 'signature_invalid', async () =>
    withSignature(await mainToken({}, {}, mainEs), p1363(0n, 0n)),
  ),
  t(23, 'denies an ES256 signature with r = 0 and s = 1', 'signature_invalid', async () =>
    withSignature(await mainToken({}, {}, mainEs), p1363(0n, 1n)),
  ),
  t(23, 'denies an ES256 signature with r = s = n', 'signature_invalid', async () =>
    withSignature(await mainToken({}, {}, mainEs), p1363(P256_ORDER, P256_ORDER)),
  ),

  // Row 24: ECDSA signature encodings.
  t(24, 'denies a DER-encoded ES256 signature', 'signature_invalid', async () => {
    const token = await mainToken({}, {}, mainEs);
    const input = token.split('.').slice(0, 2).join('.');
    return withSignature(
      token,
      nodeSign('sha256', Buffer.from(input), { key: mainEs.privateKey, dsaEncoding: 'der' }),
    );
  }),
  t(24, 'denies a 63-byte ES256 signature', 'signature_invalid', async () => {
    const token = await mainToken({}, {}, mainEs);
    return withSignature(token, signatureOf(token).subarray(0, 63));
  }),
  t(24, 'denies a 65-byte ES256 signature', 'signature_invalid', async () => {
    const token = await mainToken({}, {}, mainEs);
    return withSignature(token, Buffer.concat([signatureOf(token), Buffer.alloc(1)]));
  }),
  t(24, 'denies a 96-byte (P-384 sized) signature on ES256', 'signature_invalid', async () => {
    const token = await mainToken({}, {}, mainEs);
    return withSignature(token, Buffer.concat([signatureOf(token), Buffer.alloc(32)]));
  }),

  // Row 26: weak JWKS keys are dropped at load; their kid is then unknown.
  t(26, 'denies a token signed by a 1024-bit JWKS key', 'kid_unknown', () => rawMainToken({}, {}, weak)),
  t(26, 'denies a forged token for an e = 1 JWKS key', 'kid_unknown', () =>
    forgeForExponentOne(b64url(JSON.stringify({ alg: 'RS256', kid: 'e-one' })), b64url(claimsText()), 256),
  ),

  // Row 27: embedded key material.
  t(27, 'denies an embedded attacker jwk', 'header_forbidden_param', async () =>
    minted(await signToken(attacker, mainClaims(), { kid: 'main-rs', jwk: attacker.jwk })),
  ),

  // Row 29: certificate chains in the header.
  t(29, 'denies an x5c chain', 'header_forbidden_param', () =>
    mainToken({}, { x5c: ['MIIBszCCAVmgAwIBAgIUPqK3Yl0'] }),
  ),

  // Row 30: kid is required.
  t(30, 'denies a header without kid', 'kid_missing', () => rawToken('{"alg":"RS256"}', claimsText())),
  t(30, 'denies a header with typ but without kid', 'kid_missing', () =>
    rawToken('{"alg":"RS256","typ":"JWT"}', claimsText()),
  ),

  // Row 31: kid injection. Printable ASCII up to 128 characters is only ever an exact Map key.
  ...['../../../../dev/null', '/dev/null', "x' UNION SELECT '1';--", '|sleep 10', '/invalid_path'].map(
    (kid) => t(31, `denies the injected kid ${kid}`, 'kid_unknown', () => mainToken({}, { kid })),
  ),
  t(31, 'denies a blank kid', 'kid_invalid', () => mainToken({}, { kid: '' })),
  t(31, 'denies a kid with CR LF', 'kid_invalid', () => mainToken({}, { kid: 'main-rs\r\nX-Injected: 1' })),
  t(31, 'denies a 10 KB kid (no separate header cap)', 'kid_invalid', () =>
    mainToken({}, { kid: 'k'.repeat(10_000) }),
  ),
  t(31, 'denies a kid with a NUL', 'kid_invalid', () => mainToken({}, { kid: 'main-rs\u0000' })),
  t(31, 'denies a non-ASCII kid', 'kid_invalid', () => mainToken({}, { kid: 'main-rś' })),

  // Row 32: non-string kid.
  ...([123, {}, [], null, true] as const).map((kid) =>
    t(32, `denies a kid that is ${JSON.stringify(kid)}`, 'kid_invalid', () => mainToken({}, { kid })),
  ),

  // Row 34: duplicate kid in the JWKS.
  t(34, 'denies a kid that matches two JWKS keys', 'jwks_ambiguous_key', () => mainToken({}, {}, dupA)),

  // Row 35: crit.
  t(35, 'denies crit naming an unknown extension', 'header_forbidden_param', () =>
    rawMainToken({}, { crit: ['x-unknown'], 'x-unknown': 1 }),
  ),
  t(35, 'denies crit naming a registered parameter', 'header_forbidden_param', () =>
    rawMainToken({}, { crit: ['exp'] }),
  ),

  // Row 36 (decision taken): b64 and crit are forbidden parameters, unless the unencoded payload
  // already breaks the grammar.
  t(36, 'denies b64:false with crit when the payload fits the grammar', 'header_forbidden_param', () =>
    signSegments(mainRs, b64url(mainHeader({ b64: false, crit: ['b64'] })), 'abcd'),
  ),
  t(36, 'denies b64:false with an unencoded JSON payload (grammar first)', 'token_malformed', () =>
    signSegments(mainRs, b64url(mainHeader({ b64: false, crit: ['b64'] })), claimsText()),
  ),

  // Row 37: nested tokens are never recursed into.
  t(37, 'denies cty JWT', 'header_forbidden_param', () => mainToken({}, { cty: 'JWT' })),
  t(37, 'denies a payload that is itself a JWT', 'claims_invalid', async () =>
    rawToken(mainHeader(), await mainToken()),
  ),

  // Row 38: JWE-only parameters.
  ...(
    [
      ['enc', 'A256GCM'],
      ['zip', 'DEF'],
      ['p2c', 1_000_000_000],
      ['epk', { kty: 'EC', crv: 'P-256' }],
    ] as const
  ).map(([name, value]) =>
    t(38, `denies the JWE parameter ${name}`, 'header_forbidden_param', () =>
      mainToken({}, { [name]: value }),
    ),
  ),

  // Row 39: typ where the issuer requires at+jwt (RFC 9068).
  t(39, 'denies typ JWT', 'typ_invalid', async () =>
    minted(await signToken(atEs, atClaims(), { typ: 'JWT' })),
  ),
  t(39, 'denies a missing typ', 'typ_invalid', async () => minted(await signToken(atEs, atClaims()))),
  t(39, 'denies typ dpop+jwt', 'typ_invalid', async () =>
    minted(await signToken(atEs, atClaims(), { typ: 'dpop+jwt' })),
  ),
  t(39, 'denies a numeric typ', 'typ_invalid', async () =>
    minted(await signToken(atEs, atClaims(), { typ: 42 })),
  ),
  t(
    39,
    'accepts typ application/at+jwt',
    'allowed',
    async () => minted(await signToken(atEs, atClaims(), { typ: 'application/at+jwt' })),
    { role: RO },
  ),
  t(
    39,
    'accepts typ AT+JWT',
    'allowed',
    async () => minted(await signToken(atEs, atClaims(), { typ: 'AT+JWT' })),
    {
      role: RO,
    },
  ),

  // Row 40: ID tokens are not access tokens.
  t(40, 'denies a Cognito ID token (token_use id)', 'token_type_invalid', () =>
    mainToken({ token_use: 'id' }),
  ),
  t(40, 'denies a token with a nonce', 'token_type_invalid', () => mainToken({ nonce: 'n-0S6_WzA2Mj' })),
  t(40, 'denies a token with at_hash', 'token_type_invalid', () =>
    mainToken({ at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' }),
  ),
  // Differs in the code only: an ID token with neither marker has aud = its client id, never our API.
  t(40, 'denies an ID token whose aud is the client id (audience check)', 'audience_invalid', () =>
    mainToken({ aud: 'ohif-viewer' }),
  ),

  // Row 41: the payload must be a JSON object.
  ...['[]', '"sub"', '42', 'null'].map((payload) =>
    t(41, `denies the payload ${payload}`, 'claims_invalid', () => rawToken(mainHeader(), payload)),
  ),

  // Row 42.
  t(42, 'denies a payload with invalid UTF-8', 'claims_invalid', () =>
    rawToken(
      mainHeader(),
      Buffer.concat([Buffer.from(claimsText().slice(0, -1)), Buffer.from(',"x":"\xff"}', 'latin1')]),
    ),
  ),

  // Row 43: nesting (payload depth above 16).
  t(43, 'denies a claim nested 17 levels deep', 'claims_invalid', () =>
    rawToken(mainHeader(), claimsText({ deep: JSON.parse(nested(16)) })),
  ),
  t(43, 'denies a claim nested 5000 levels deep under the size cap', 'claims_invalid', () =>
    rawToken(mainHeader(), claimsText({}, `"deep":${nested(5000)}`)),
  ),

  // Row 44: duplicate claims.
  t(44, 'denies a duplicated iss', 'claims_invalid', () =>
    rawToken(mainHeader(), claimsText({}, '"iss":"https://evil.example"')),
  ),
  t(44, 'denies a duplicate hidden by a unicode escape', 'claims_invalid', () =>
    rawToken(mainHeader(), claimsText({}, '"\\u0069ss":"https://evil.example"')),
  ),
  t(44, 'denies a duplicated exp', 'claims_invalid', () =>
    rawToken(mainHeader(), claimsText({}, `"exp":${S + 999_999}`)),
  ),

  // Row 45: prototype keys are plain data, never a source of claims.
  t(
    45,
    'denies a write granted only through __proto__',
    'operation_not_permitted',
    () => rawToken(mainHeader(), claimsText({}, '"__proto__":{"scope":"dicom.write"}')),
    { operation: 'StoreDICOM' },
  ),
  t(
    45,
    'denies a write granted only through constructor.prototype',
    'operation_not_permitted',
    () => rawToken(mainHeader(), claimsText({}, '"constructor":{"prototype":{"scope":"dicom.write"}}')),
    { operation: 'StoreDICOM' },
  ),
  t(45, 'denies an exp supplied only through __proto__', 'claim_missing', () =>
    rawToken(mainHeader(), claimsText({ exp: undefined }, `"__proto__":{"exp":${S + 600}}`)),
  ),
  t(45, 'denies a scope supplied only through __proto__', 'no_role_mapping', () =>
    rawToken(mainHeader(), claimsText({ scope: undefined }, '"__proto__":{"scope":"dicom.read"}')),
  ),

  // Row 46: required claims.
  t(46, 'denies a token without exp', 'claim_missing', () => mainToken({ exp: undefined })),
  t(46, 'denies a token without iat', 'claim_missing', () => mainToken({ iat: undefined })),
  t(46, 'denies a token without sub', 'claim_missing', () => mainToken({ sub: undefined })),

  // Row 47: exp of the wrong JSON type is never "absent".
  ...[String(S + 600), null, true, [S + 600], { value: S + 600 }].map((exp) =>
    t(47, `denies exp ${JSON.stringify(exp)}`, 'claims_invalid', () => mainToken({ exp })),
  ),

  // Row 48: non-finite or unsafe exp.
  t(48, 'denies exp 1e400 (Infinity)', 'token_lifetime_exceeded', () =>
    rawToken(mainHeader(), claimsText({ exp: undefined }, '"exp":1e400')),
  ),
  t(48, 'denies exp 2^53', 'token_lifetime_exceeded', () =>
    rawToken(mainHeader(), claimsText({ exp: undefined }, '"exp":9007199254740992')),
  ),
  t(48, 'denies exp 1e300', 'token_lifetime_exceeded', () =>
    rawToken(mainHeader(), claimsText({ exp: undefined }, '"exp":1e300')),
  ),

  // Row 49: expiry, at the boundary (default tolerance 30 s).
  t(49, 'denies exp exactly the tolerance before now', 'token_expired', () => mainToken({ exp: S - 30 })),
  t(49, 'accepts exp one second inside the tolerance', 'allowed', () => mainToken({ exp: S - 29 }), {
    role: RO,
  }),
  t(49, 'denies exp an hour ago', 'token_expired', () => mainToken({ exp: S - 3600 })),
  t(49, 'denies exp 0', 'token_expired', () => mainToken({ exp: 0 })),
  t(49, 'denies a negative exp', 'token_expired', () => mainToken({ exp: -1 })),

  // Row 50: nbf.
  t(50, 'denies nbf one second past the tolerance', 'token_not_yet_valid', () => mainToken({ nbf: S + 31 })),
  t(50, 'accepts nbf at the tolerance', 'allowed', () => mainToken({ nbf: S + 30 }), { role: RO }),
  t(50, 'denies a string nbf', 'claims_invalid', () => mainToken({ nbf: 'soon' })),
  t(50, 'denies a null nbf', 'claims_invalid', () => mainToken({ nbf: null })),

  // Row 51: iat in the future.
  t(51, 'denies iat one second past the tolerance', 'token_not_yet_valid', () => mainToken({ iat: S + 31 })),
  t(51, 'accepts iat at the tolerance', 'allowed', () => mainToken({ iat: S + 30 }), { role: RO }),

  // Row 52: the 12 h iat window.
  t(52, 'denies a negative iat', 'token_lifetime_exceeded', () => mainToken({ iat: -1 })),
  t(52, 'denies iat 0', 'token_lifetime_exceeded', () => mainToken({ iat: 0 })),
  t(52, 'denies iat one second older than 12 h plus tolerance', 'token_lifetime_exceeded', () =>
    mainToken({ iat: S - 43_231 }),
  ),
  t(52, 'accepts iat exactly 12 h plus tolerance ago', 'allowed', () => mainToken({ iat: S - 43_230 }), {
    role: RO,
  }),

  // Row 53: iss is compared byte for byte.
  ...[
    `${MAIN_ISS}/`,
    'https://IDP.example.org/realms/main',
    'http://idp.example.org/realms/main',
    ` ${MAIN_ISS}`,
    `${MAIN_ISS} `,
    'https://idp.ex\u0430mple.org/realms/main',
    `${MAIN_ISS}\u0000`,
  ].map((iss) =>
    t(53, `denies the iss variant ${JSON.stringify(iss)}`, 'issuer_invalid', () => mainToken({ iss })),
  ),

  // Row 54.
  t(54, 'denies iss as an array naming the configured issuer', 'issuer_invalid', () =>
    mainToken({ iss: ['https://evil.example', MAIN_ISS] }),
  ),

  // Row 56: the key set is the configured issuer's, never another's.
  t(56, "denies issuer A's key with iss B when B does not publish the kid", 'kid_unknown', () =>
    mainToken({ iss: B_ISS, client_id: undefined }, {}, mainRs2),
  ),
  t(56, "denies issuer A's key with iss B when B publishes the same kid", 'signature_invalid', () =>
    mainToken({ iss: B_ISS, client_id: undefined }),
  ),

  // Row 57: Entra ID multi-tenant.
  t(57, 'accepts an Entra app token from the configured tenant', 'allowed', () => entraToken(), { role: RO }),
  t(57, 'denies a {tenantid} template issuer', 'issuer_invalid', () =>
    entraToken({ iss: 'https://login.microsoftonline.com/{tenantid}/v2.0' }),
  ),
  t(57, 'denies the common issuer', 'issuer_invalid', () =>
    entraToken({ iss: 'https://login.microsoftonline.com/common/v2.0' }),
  ),
  t(57, "denies another tenant's issuer signed with the shared keys", 'issuer_invalid', () =>
    entraToken({ iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`, tid: OTHER_TENANT }),
  ),
  t(57, 'denies the v1 issuer where v2 is configured', 'issuer_invalid', () =>
    entraToken({ iss: `https://sts.windows.net/${TENANT}/`, ver: '1.0' }),
  ),
  t(57, 'denies a tid of another tenant', 'tenant_not_allowed', () => entraToken({ tid: OTHER_TENANT })),
  t(57, 'denies a tid that is not a GUID', 'tenant_not_allowed', () => entraToken({ tid: 'not-a-guid' })),
  t(57, 'denies a missing tid', 'tenant_not_allowed', () => entraToken({ tid: undefined })),

  // Row 58.
  t(58, 'denies a token without aud', 'audience_invalid', () => mainToken({ aud: undefined })),
  t(58, 'denies an empty aud array', 'audience_invalid', () => mainToken({ aud: [] })),
  t(58, 'denies an empty aud string', 'audience_invalid', () => mainToken({ aud: '' })),

  // Row 59: any-of audience, bounded.
  t(
    59,
    'accepts an aud array that contains ours among others (RFC 7519 any-of)',
    'allowed',
    () => mainToken({ aud: ['https://evil.example', AUD] }),
    { role: RO },
  ),
  t(59, 'denies an aud array of 17 entries', 'audience_invalid', () =>
    mainToken({ aud: [...Array.from({ length: 16 }, (_, i) => `https://a${i}.example`), AUD] }),
  ),

  // Row 60.
  t(60, 'denies an aud array with non-strings', 'audience_invalid', () => mainToken({ aud: [1, {}, AUD] })),
  t(60, 'denies an aud array with null', 'audience_invalid', () => mainToken({ aud: [null, AUD] })),

  // Row 61.
  t(61, 'denies a Graph token with a header nonce', 'audience_invalid', () =>
    mainToken({ aud: 'https://graph.microsoft.com' }, { nonce: 'AQABAAAAAAD' }),
  ),

  // Row 62: client allowlist.
  t(62, 'denies a client_id not on the allowlist', 'client_not_allowed', () =>
    mainToken({ client_id: 'evil-client' }),
  ),
  t(62, 'denies an azp not on the allowlist', 'client_not_allowed', () =>
    mainToken({ client_id: undefined, azp: 'evil-client' }),
  ),
  t(62, 'denies a token without any client claim', 'client_not_allowed', () =>
    mainToken({ client_id: undefined }),
  ),
  t(
    62,
    'accepts an allowed azp when client_id is absent',
    'allowed',
    () => mainToken({ client_id: undefined, azp: 'pacs-gateway' }),
    { role: RO },
  ),
  t(62, 'denies a numeric client_id', 'claims_invalid', () => mainToken({ client_id: 42 })),

  // Row 63: mapping claims of the wrong type or shape.
  t(
    63,
    'accepts the group as an array element',
    'allowed',
    () => mainToken({ scope: 'openid', groups: [GROUP] }),
    {
      role: RO,
    },
  ),
  // docs/configuration.md "Matching": a string value is a one-element set, so a single group string matches.
  t(
    63,
    'accepts the group as a plain string (a one-element set)',
    'allowed',
    () => mainToken({ scope: 'openid', groups: GROUP }),
    { role: RO },
  ),
  t(63, 'denies groups as an object', 'no_role_mapping', () =>
    mainToken({ scope: 'openid', groups: { id: GROUP } }),
  ),
  t(63, 'denies groups nested in an array', 'no_role_mapping', () =>
    mainToken({ scope: 'openid', groups: [[GROUP]] }),
  ),
  t(63, 'denies non-string app roles', 'no_role_mapping', () => entraToken({ roles: [1, true, null] })),
  t(63, 'denies scp where the rule names scope', 'no_role_mapping', () =>
    mainToken({ scope: undefined, scp: 'dicom.read' }),
  ),
  t(63, 'denies a scope differing only in case', 'no_role_mapping', () => mainToken({ scope: 'DICOM.READ' })),
  t(63, 'denies a scope with a fullwidth letter', 'no_role_mapping', () =>
    mainToken({ scope: 'dicom.re\uff41d' }),
  ),
  t(63, 'denies an Entra groups overage reference', 'no_role_mapping', () =>
    mainToken({
      scope: 'openid',
      _claim_names: { groups: 'src1' },
      _claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/v1.0/users/x/getMemberObjects' } },
    }),
  ),
  t(63, 'denies 10k groups (over the token cap)', 'token_too_large', () =>
    mainToken({
      scope: 'openid',
      groups: Array.from(
        { length: 10_000 },
        (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      ),
    }),
  ),
  // Claim sets are bounded: only the first 1000 values of a claim are considered.
  t(
    63,
    'accepts a matching group at position 1000 of 1100',
    'allowed',
    () =>
      mainToken({
        scope: 'openid',
        groups: Array.from({ length: 1100 }, (_, i) => (i === 999 ? GROUP : `g${i}`)),
      }),
    { role: RO },
  ),
  t(63, 'denies a matching group past position 1000 of 1100', 'no_role_mapping', () =>
    mainToken({
      scope: 'openid',
      groups: Array.from({ length: 1100 }, (_, i) => (i === 1050 ? GROUP : `g${i}`)),
    }),
  ),

  // Row 64: mutable claims do not identify anyone; rules map immutable ids.
  t(64, "denies a token carrying the admin's email and upn but not the admin's oid", 'no_role_mapping', () =>
    mainToken({
      scope: 'openid',
      email: ADMIN_EMAIL,
      upn: ADMIN_EMAIL,
      preferred_username: ADMIN_EMAIL,
      oid: '00000000-0000-4000-8000-000000000001',
    }),
  ),
  t(
    64,
    "accepts the admin's immutable oid",
    'allowed',
    () => mainToken({ scope: 'openid', oid: ADMIN_OID }),
    {
      role: RW,
    },
  ),

  // Row 65: fail closed, first match wins.
  t(65, 'denies a verified token that no rule matches', 'no_role_mapping', () =>
    mainToken({ scope: 'openid profile' }),
  ),
  t(
    65,
    'returns the first matching rule when two rules grant different roles',
    'allowed',
    () => mainToken({ scope: 'dicom.read dicom.write' }),
    { role: RW },
  ),

  // Row 66: least privilege.
  t(66, 'denies a write with a read scope', 'operation_not_permitted', () => mainToken(), {
    operation: 'StoreDICOM',
  }),
  t(66, 'denies a study store with a read scope', 'operation_not_permitted', () => mainToken(), {
    operation: 'StoreDICOMStudy',
  }),
];

// ── Tests ──────────────────────────────────────────────────────────────────────────────────────

describe('the hostile-input catalogue through the built bundle', () => {
  for (const c of CASES) {
    it(`row ${c.row}: ${c.does} (${c.reason})`, async () => {
      // Arrange
      const input = await c.event();

      // Act
      const { result, reason } = await invoke(input);

      // Assert
      expect(reason).toBe(c.reason);
      expect(result).toEqual(answerFor(c.reason, c.role));
      covered.add(c.row);
    });
  }

  // Row 25 differs from the catalogue's outcome on purpose: ECDSA (OpenSSL) does not enforce low-s, so the
  // twin verifies. We accept it as the same token. Nothing that could deny or skip work is keyed on
  // raw bytes in a way a twin could exploit: there is no deny-list (a future one must key on
  // (iss, jti)), and the verified-token cache keys on SHA-256 of the whole token, so a twin is a
  // cache miss, verified in full, and gains nothing a replay would not.
  it('row 25: accepts the ECDSA high-s twin of a valid token as the same token, verified in full (allowed)', async () => {
    // Arrange
    const token = await mainToken({}, {}, mainEs);
    const twin = highSTwin(token);

    // Act
    const original = await invoke(event(token));
    const replay = await invoke(event(token));
    const malleated = await invoke(event(twin));

    // Assert
    expect(twin).not.toBe(token);
    expect(original.result).toEqual({ isTokenValid: true, roleArn: RO });
    expect(malleated.result).toEqual({ isTokenValid: true, roleArn: RO });
    expect(malleated.record?.['jti']).toBe(original.record?.['jti']);
    expect([original.record?.['tokenCache'], replay.record?.['tokenCache']]).toEqual(['miss', 'hit']);
    expect(malleated.record?.['tokenCache']).toBe('miss');
    covered.add(25);
  });

  // Row 26: the key is excluded at load by its ROCA fingerprint, so its tokens are kid_unknown.
  it('row 26: denies a token signed by a ROCA-vulnerable JWKS key (kid_unknown)', async () => {
    // Act
    const { reason } = await invoke(event(rawMainToken({}, {}, roca)));

    // Assert
    expect(reason).toBe('kid_unknown');
  });

  it('row 28: denies jku and x5u (header_forbidden_param) and never fetches the URLs they name', async () => {
    // Arrange
    const before = attackerHits();

    // Act
    const jku = await invoke(event(await mainToken({}, { jku: `${idp.url}/attacker/jwks` }, attacker)));
    const x5u = await invoke(event(await mainToken({}, { x5u: `${idp.url}/attacker/cert.pem` }, attacker)));

    // Assert
    expect([jku.reason, x5u.reason]).toEqual(['header_forbidden_param', 'header_forbidden_param']);
    expect(attackerHits()).toBe(before);
    covered.add(28);
  });

  it('row 33: denies a flood of random unknown kids (kid_unknown) with at most one JWKS refetch', async () => {
    // Arrange
    const before = idp.hits('/main/jwks');

    // Act
    const reasons = new Set<string | undefined>();
    for (let i = 0; i < 30; i += 1) {
      reasons.add((await invoke(event(await mainToken({}, { kid: `random-${randomUUID()}` })))).reason);
    }

    // Assert
    expect([...reasons]).toEqual(['kid_unknown']);
    expect(idp.hits('/main/jwks') - before).toBeLessThanOrEqual(1);
    covered.add(33);
  });

  it('row 33: denies an unknown kid with kid_unknown while keys are cached and the refetch fails', async () => {
    // Arrange: authorize() with the real key store (no cooldown) whose JWKS endpoint dies after one fetch.
    let fetches = 0;
    const deps = pipelineDeps({
      nowMs: NOW,
      keyStore: { refetchCooldownMs: 0 },
      config: {
        issuers: [{ issuer: MAIN_ISS, jwksUri: `${MAIN_ISS}/jwks`, audience: AUD }],
        rules: [{ name: 'readers', claims: { scope: 'dicom.read' }, roleArn: RO }],
      },
      jwks: () => {
        fetches += 1;
        if (fetches > 1) throw new Error('the IdP is down');
        return { keys: [mainRs.jwk] };
      },
    });

    // Act
    const before = await decideWith(deps, await mainToken());
    const unknown = await decideWith(deps, await mainToken({}, { kid: 'rotated-in' }));
    const after = await decideWith(deps, await mainToken());

    // Assert
    expect([before.reason, unknown.reason, after.reason]).toEqual(['allowed', 'kid_unknown', 'allowed']);
    expect(fetches).toBe(2);
    covered.add(33);
  });

  it('row 55: denies an unconfigured attacker issuer (issuer_invalid) before any network I/O', async () => {
    // Arrange
    const before = attackerHits();
    const token = await mainToken({ iss: `${idp.url}/attacker` }, { kid: 'attacker' }, attacker);

    // Act
    const { reason, result } = await invoke(event(token));

    // Assert
    expect(reason).toBe('issuer_invalid');
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(attackerHits()).toBe(before);
    covered.add(55);
  });

  it('row 67: logs only sanitised, length-capped kid, iss, sub and jti from hostile strings', async () => {
    // Arrange
    const ansi = '\u001b[2J\u001b[31m';
    const crlf = '\r\n{"level":"ERROR","message":"forged"}';

    // Act
    const kid = await invoke(event(await mainToken({}, { kid: `main-rs${ansi}${crlf}` })));
    const iss = await invoke(
      event(await mainToken({ iss: `https://evil.example/${ansi}${crlf}${'i'.repeat(300)}` })),
    );
    const sub = await invoke(
      event(
        await mainToken({
          sub: `${ansi}admin${crlf}${'s'.repeat(9000)}`,
          jti: `${ansi}]8;;http://evil\u0007`,
        }),
      ),
    );
    const huge = await invoke(event(await mainToken({ sub: 's'.repeat(100_000) })));

    // Assert
    expect([kid.reason, iss.reason, sub.reason, huge.reason]).toEqual([
      'kid_invalid',
      'issuer_invalid',
      'allowed',
      'token_too_large',
    ]);
    expect(kid.record?.['kid']).toBeUndefined();
    for (const value of [iss.record?.['iss'], sub.record?.['sub'], sub.record?.['jti']]) {
      expect(typeof value).toBe('string');
      expect(value as string).toMatch(/^[\x20-\x7e…]*$/);
      expect((value as string).length).toBeLessThanOrEqual(257);
    }
    covered.add(67);
  });

  // Row 68: no deny-list; replay is bounded by exp and, whatever exp says, by the 12 h iat window.
  it('row 68: accepts a replay of a still-valid token but never one issued over 12 h ago (token_lifetime_exceeded)', async () => {
    // Arrange
    const token = await mainToken();
    const longLived = await mainToken({ iat: S - 43_231, exp: S + 30 * 86_400 });

    // Act
    const first = await invoke(event(token));
    const replay = await invoke(event(token));
    const old = await invoke(event(longLived));

    // Assert
    expect([first.reason, replay.reason]).toEqual(['allowed', 'allowed']);
    expect(old.reason).toBe('token_lifetime_exceeded');
    covered.add(68);
  });

  it('covers every one of the 68 rows of the catalogue', () => {
    // Assert
    const missing = Array.from({ length: 68 }, (_, i) => i + 1).filter((row) => !covered.has(row));
    expect(missing).toEqual([]);
  });

  it('never logs a token segment, a personal claim, a raw control character or an unbounded field', () => {
    // Arrange: every line the bundle wrote here, for docs/operations.md "Audit log and metrics".
    const lines = handler.lines;

    // Act
    const problems = hygieneProblems(lines, { secrets: SECRETS, tokens: mintedTokens });

    // Assert
    expect(lines.length).toBeGreaterThan(CASES.length);
    expect(problems).toEqual([]);
  });
});
