/**
 * Random and adversarial invocations of the built Lambda bundle (fast-check): whatever the event or
 * context holds (any JSON-ish value, Maps, BigInt, token-shaped strings, throwing proxies), the handler
 * never throws, answers the deny shape, and writes one audit line with a known reason, following
 * docs/operations.md "Audit log and metrics".
 */

import { randomUUID } from 'node:crypto';
import { fc, it as prop } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_OPERATIONS } from '../../src/core/contract/healthimaging.ts';
import { REASON_CODES } from '../../src/core/decision/reason-codes.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { b64url, makeKey, signToken } from '../support/keys.ts';
import { type LoadedHandler, loadHandler } from '../support/load-handler.ts';
import { hygieneProblems } from '../support/log-hygiene.ts';
import { DS } from '../support/security-pipeline.ts';
import { minted, mintedTokens } from '../support/hostile-tokens.ts';

const ISS = 'https://idp.example.org';
const AUD = 'https://dicomweb.example.org';
const RO = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';
const DENY = { isTokenValid: false, roleArn: '' };
const ALLOWED = { isTokenValid: true, roleArn: RO };
const PERSONAL = ['Janet Q. Patientson', 'janet.patientson@hospital.example', 'MRN-0042-7781'];

const key = await makeKey('RS256', 'events-rs');
let idp: IdpServer;
let handler: LoadedHandler;

beforeAll(async () => {
  idp = await startIdpServer();
  idp.on('/jwks', { kind: 'json', body: { keys: [key.jwk] } });
  handler = await loadHandler({
    AUTHORIZER_CONFIG: JSON.stringify({
      issuers: [{ issuer: ISS, jwksUri: `${idp.url}/jwks`, audience: AUD }],
      datastores: [DS],
      rules: [{ name: 'readers', claims: { scope: 'dicom.read' }, roleArn: RO }],
    }),
  });
});

afterAll(async () => {
  await idp?.close();
});

/** Reasons seen for token-shaped strings: proves the random tokens reach the key and signature steps. */
const tokenReasons = new Set<unknown>();

/** The audit records written since line `from` (parsing only the new lines keeps this linear). */
function decisionsSince(from: number): Record<string, unknown>[] {
  return handler.lines
    .slice(from)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record['message'] === 'authorization decision');
}

/** Invokes the bundle and checks the invariant: the deny shape, one audit line, a known reason. */
async function expectDeny(event: unknown, context?: Record<string, unknown>): Promise<unknown> {
  const from = handler.lines.length;
  const result = await handler.invoke(event, context);
  const decisions = decisionsSince(from);
  expect(result).toEqual(DENY);
  expect(decisions).toHaveLength(1);
  const reason = decisions[0]?.['reason'];
  expect(REASON_CODES).toContain(reason);
  expect(reason).not.toBe('allowed');
  return reason;
}

const anything = fc.anything({
  maxDepth: 4,
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withBigInt: true,
  withNullPrototype: true,
  withObjectString: true,
  withTypedArray: true,
  withSparseArray: true,
});

/** Three dot-separated base64url segments with random JSON: reaches the header, issuer and key steps. */
const tokenShaped = fc
  .record({
    alg: fc.oneof(
      { weight: 4, arbitrary: fc.constant('RS256') },
      { weight: 2, arbitrary: fc.constantFrom('ES256', 'PS256', 'none', 'HS256', 'EdDSA') },
      { weight: 1, arbitrary: fc.jsonValue() },
    ),
    kid: fc.oneof(
      { weight: 4, arbitrary: fc.constant('events-rs') },
      { weight: 2, arbitrary: fc.constantFrom('unknown-kid', '../../dev/null') },
      { weight: 1, arbitrary: fc.jsonValue() },
    ),
    header: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    iss: fc.oneof(
      { weight: 4, arbitrary: fc.constant(ISS) },
      { weight: 2, arbitrary: fc.constantFrom(`${ISS}/`, 'https://evil.example') },
      { weight: 1, arbitrary: fc.jsonValue() },
    ),
    claims: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
    signature: fc.uint8Array({ minLength: 0, maxLength: 300 }),
  })
  .map(({ alg, kid, header, iss, claims, signature }) =>
    [
      b64url(JSON.stringify({ ...header, alg, kid })),
      b64url(JSON.stringify({ ...claims, iss, name: PERSONAL[0], email: PERSONAL[1] })),
      b64url(signature),
    ].join('.'),
  );

const bearer = fc.oneof(
  tokenShaped,
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.stringMatching(/^[A-Za-z0-9_.=+/ -]{0,120}$/),
  anything,
);

const eventArb = fc.oneof(
  anything,
  fc.record(
    {
      datastoreId: fc.oneof(fc.constant(DS), fc.string(), anything),
      operation: fc.oneof(
        fc.constantFrom(...KNOWN_OPERATIONS, 'read', '__proto__', 'constructor'),
        fc.string(),
        anything,
      ),
      bearerToken: bearer,
    },
    { requiredKeys: [] },
  ),
);

const explode = () => {
  throw new Error('hostile');
};

/** Values a JSON event can never hold but an in-process caller could pass: every access throws. */
function hostileValues(): [string, unknown][] {
  const trapAll = new Proxy(
    {},
    {
      get: explode,
      has: explode,
      ownKeys: explode,
      getOwnPropertyDescriptor: explode,
      getPrototypeOf: explode,
    },
  );
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const throwingGetters = Object.defineProperties(
    {},
    {
      datastoreId: { enumerable: true, get: explode },
      operation: { enumerable: true, get: explode },
      bearerToken: { enumerable: true, get: explode },
    },
  );
  const throwingToken = Object.defineProperty(
    { datastoreId: DS, operation: 'GetDICOMInstance' },
    'bearerToken',
    {
      enumerable: true,
      get: explode,
    },
  );
  const coercion = { toString: explode, valueOf: explode, toJSON: explode, [Symbol.toPrimitive]: explode };
  return [
    ['a proxy whose every trap throws', trapAll],
    ['a revoked proxy', revoked.proxy],
    ['an event whose getters throw', throwingGetters],
    ['an event whose bearerToken getter throws', throwingToken],
    [
      'a bearerToken whose coercions throw',
      { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: coercion },
    ],
    ['an operation whose coercions throw', { datastoreId: DS, operation: coercion, bearerToken: 'a.b.c' }],
    [
      'a datastoreId that is a revoked proxy',
      { datastoreId: revoked.proxy, operation: 'GetDICOMInstance', bearerToken: 'a.b.c' },
    ],
    ['a frozen event with a symbol key', Object.freeze({ [Symbol('x')]: 1, datastoreId: DS })],
    ['a function', explode],
    [
      'an event inheriting its fields',
      Object.create({ datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: 'a.b.c' }),
    ],
  ];
}

describe('the built handler under random and adversarial invocations', () => {
  prop.prop([eventArb], { numRuns: 400 })(
    'answers the deny shape with one audit line for any event',
    async (event) => {
      await expectDeny(event);
    },
  );

  prop.prop([tokenShaped, fc.constantFrom(...KNOWN_OPERATIONS)], { numRuns: 300 })(
    'answers the deny shape for any token-shaped string on a real operation',
    async (token, operation) => {
      tokenReasons.add(await expectDeny({ datastoreId: DS, operation, bearerToken: token }));
    },
  );

  it('reached the header, issuer, key and signature checks with those token-shaped strings', () => {
    // Assert
    expect([...tokenReasons]).toEqual(
      expect.arrayContaining(['alg_not_allowed', 'issuer_invalid', 'kid_unknown', 'signature_invalid']),
    );
  });

  it.each(hostileValues())('answers the deny shape for %s', async (_name, event) => {
    await expectDeny(event);
  });

  // Only fields a caller could shape: the remaining-time function is the Lambda runtime's own (a
  // throwing or NaN one is a runtime bug, reported separately, not an input).
  it.each([
    ['awsRequestId is an object whose coercions throw', { awsRequestId: { toString: explode } }, ALLOWED],
    ['awsRequestId carries CR LF and ANSI', { awsRequestId: '\u001b[31m\r\nforged' }, ALLOWED],
    ['awsRequestId is 10 KB long', { awsRequestId: 'r'.repeat(10_000) }, ALLOWED],
  ])(
    'answers without throwing and logs the decision when the Lambda context is hostile: %s',
    async (_name, context, expected) => {
      // Arrange: a token that is allowed, so a broken context shows as a deny, never as a throw.
      const now = Math.floor(Date.now() / 1000);
      const token = minted(
        await signToken(key, {
          iss: ISS,
          sub: 's',
          aud: AUD,
          scope: 'dicom.read',
          iat: now,
          exp: now + 60,
          jti: randomUUID(),
        }),
      );
      const from = handler.lines.length;

      // Act
      const result = await handler.invoke(
        { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: token },
        context,
      );

      // Assert
      expect(result).toEqual(expected);
      expect(decisionsSince(from)).toHaveLength(1);
    },
  );

  it('never logs a token segment, a personal claim, a raw control character or an unbounded field', () => {
    // Assert
    expect(handler.lines.length).toBeGreaterThan(700);
    expect(hygieneProblems(handler.lines, { secrets: PERSONAL, tokens: mintedTokens })).toEqual([]);
  });
});
