/**
 * Every decision names the pipeline step that concluded it, set where the decision is made (at
 * trail.finish in src/core/authorize.ts, or by a stage's refusal), never derived from a reason code's
 * spelling. One real decision per reason code (more where several steps reach it), through authorize().
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AuthorizeDeps, authorize } from '../../src/core/authorize.ts';
import { type ConfigState, createConfigLoader } from '../../src/core/config/config-loader.ts';
import type { AuthorizerConfigInput } from '../../src/core/config/schema.ts';
import type { Decision, StepName } from '../../src/core/decision/decision.ts';
import { REASON_CODES, type Reason } from '../../src/core/decision/reason-codes.ts';
import { createDeadline } from '../../src/core/kernel/deadline.ts';
import { MAX_TOKEN_LENGTH } from '../../src/core/kernel/limits.ts';
import { createKeyStore, type KeyStore } from '../../src/core/keys/key-store.ts';
import { b64url, epoch, jwksOf, makeKey, signRaw, signToken, type TestKey } from '../support/keys.ts';
import { DS, loadedConfig } from '../support/security-pipeline.ts';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const ISS = 'https://idp.example.org';
const TYPED = 'https://typed.example.org';
const TENANT = 'https://tenant.example.org';
const CLIENTS = 'https://clients.example.org';
const AMBIGUOUS = 'https://ambiguous.example.org';
const DOWN = 'https://down.example.org';
const TENANT_ID = '11111111-2222-3333-4444-555555555555';
const ROLE = 'arn:aws:iam::111122223333:role/Readers';

/** The steps each reason code may conclude at (more than one where several stages can reach it). */
const EXPECTED_STEPS: Readonly<Record<Reason, readonly StepName[]>> = {
  allowed: ['policy'],
  no_role_mapping: ['policy'],
  operation_not_permitted: ['policy'],
  malformed_request: ['request'],
  unknown_datastore: ['request'],
  unknown_operation: ['request'],
  token_missing: ['request'],
  token_too_large: ['format'],
  token_malformed: ['format'],
  header_invalid: ['header'],
  header_forbidden_param: ['header'],
  alg_not_allowed: ['header'],
  typ_invalid: ['header'],
  kid_missing: ['header'],
  kid_invalid: ['header'],
  kid_unknown: ['key'],
  jwks_ambiguous_key: ['key'],
  issuer_invalid: ['issuer'],
  tenant_not_allowed: ['claims'],
  signature_invalid: ['signature'],
  claims_invalid: ['claims'],
  claim_missing: ['claims'],
  audience_invalid: ['claims'],
  client_not_allowed: ['claims'],
  token_type_invalid: ['claims'],
  token_expired: ['claims'],
  token_not_yet_valid: ['claims'],
  token_lifetime_exceeded: ['claims'],
  idp_unavailable: ['key'],
  config_unavailable: ['config'],
  config_invalid: ['config'],
  // The step the pipeline had reached when the budget ran out.
  deadline_exceeded: ['request', 'issuer'],
  // The catch-all of authorize() (the event), or a role outside the deployment allowlist (the policy).
  internal_error: ['request', 'policy'],
};

const CONFIG: AuthorizerConfigInput = {
  issuers: [
    { issuer: ISS, jwksUri: `${ISS}/jwks`, audience: 'api' },
    { issuer: TYPED, jwksUri: `${TYPED}/jwks`, audience: 'api', tokenType: 'at+jwt' },
    { issuer: TENANT, jwksUri: `${TENANT}/jwks`, audience: 'api', tenantId: TENANT_ID },
    { issuer: CLIENTS, jwksUri: `${CLIENTS}/jwks`, clientIds: ['viewer'] },
    { issuer: AMBIGUOUS, jwksUri: `${AMBIGUOUS}/jwks`, audience: 'api' },
    { issuer: DOWN, jwksUri: `${DOWN}/jwks`, audience: 'api' },
  ],
  rules: [{ name: 'readers', claims: { scope: 'read' }, operations: ['GetDICOMInstance'], roleArn: ROLE }],
  datastores: [DS],
};

let key: TestKey;
let twin: TestKey;
let rs384: TestKey;

beforeAll(async () => {
  [key, twin, rs384] = await Promise.all([
    makeKey('RS256', 'k1'),
    makeKey('RS256', 'k1'), // same kid, other key pair: a forgery as far as the JWKS is concerned
    makeKey('RS384', 'k384'),
  ]);
});

/** An in-memory IdP: each issuer's JWKS by URL prefix; DOWN answers 503. */
function keyStore(): KeyStore {
  const fetch = (input: string | URL | Request): Promise<Response> => {
    const url = input instanceof Request ? input.url : input.toString();
    if (url.startsWith(DOWN)) return Promise.resolve(new Response('down', { status: 503 }));
    const body = url.startsWith(AMBIGUOUS) ? { keys: [key.jwk, { ...twin.jwk }] } : jwksOf(key, rs384);
    return Promise.resolve(
      new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } }),
    );
  };
  return createKeyStore({ fetch });
}

function deps(
  overrides: Partial<AuthorizeDeps> = {},
  config: ConfigState = loadedConfig(CONFIG),
): AuthorizeDeps {
  return { config: { load: () => Promise.resolve(config) }, keys: keyStore(), now: () => NOW, ...overrides };
}

const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ISS,
  sub: 'user-1',
  aud: 'api',
  scope: 'read',
  iat: epoch(NOW, -10),
  exp: epoch(NOW, 300),
  ...extra,
});

/** A token with any header and payload text and a signature that never matters (refused before it). */
const unsigned = (header: string, payload: string = JSON.stringify(claims())) =>
  `${b64url(header)}.${b64url(payload)}.${b64url('signature')}`;

async function decide(
  bearerToken: unknown,
  options: { deps?: AuthorizeDeps; operation?: string; datastoreId?: string; budgetMs?: number } = {},
): Promise<Decision> {
  const event = {
    datastoreId: options.datastoreId ?? DS,
    operation: options.operation ?? 'GetDICOMInstance',
    bearerToken,
  };
  const { decision } = await authorize(
    event,
    options.deps ?? deps(),
    createDeadline(options.budgetMs ?? 5_000),
  );
  return decision;
}

/** The step that concluded a decision: the failed step of a denial, the last passed one of an allow. */
function concludingStep(decision: Decision): { step: StepName; ok: boolean } | undefined {
  const last = decision.steps.at(-1);
  return last && { step: last.step, ok: last.ok };
}

interface Case {
  reason: Reason;
  step: StepName;
  what: string;
  decide: () => Promise<Decision>;
}

const never = <T>() => new Promise<T>(() => undefined);

const CASES: Case[] = [
  {
    reason: 'allowed',
    step: 'policy',
    what: 'a rule matches',
    decide: async () => decide(await signToken(key, claims())),
  },
  {
    reason: 'no_role_mapping',
    step: 'policy',
    what: "no rule's claims match",
    decide: async () => decide(await signToken(key, claims({ scope: 'write' }))),
  },
  {
    reason: 'operation_not_permitted',
    step: 'policy',
    what: 'the rule does not cover the operation',
    decide: async () => decide(await signToken(key, claims()), { operation: 'SearchDICOMStudies' }),
  },
  {
    reason: 'malformed_request',
    step: 'request',
    what: "the event's datastoreId is not 32 characters of [0-9a-z]",
    decide: async () => decide('x', { datastoreId: 'not-a-datastore' }),
  },
  {
    reason: 'unknown_datastore',
    step: 'request',
    what: 'the datastore is not configured',
    decide: async () => decide(await signToken(key, claims()), { datastoreId: 'f'.repeat(32) }),
  },
  {
    reason: 'unknown_operation',
    step: 'request',
    what: 'the operation is neither known nor named by a rule',
    decide: async () => decide(await signToken(key, claims()), { operation: 'DeleteEverything' }),
  },
  { reason: 'token_missing', step: 'request', what: 'the bearer token is empty', decide: () => decide('') },
  {
    reason: 'token_too_large',
    step: 'format',
    what: 'the token is over the size cap',
    decide: () => decide('a'.repeat(MAX_TOKEN_LENGTH + 1)),
  },
  {
    reason: 'token_too_large',
    step: 'format',
    what: 'the header nests too deeply',
    decide: () => decide(unsigned('{"alg":"RS256","kid":"k1","x":[[[[[1]]]]]}')),
  },
  { reason: 'token_malformed', step: 'format', what: 'not a compact JWS', decide: () => decide('not-a-jwt') },
  {
    reason: 'header_invalid',
    step: 'header',
    what: 'the header is an array',
    decide: () => decide(unsigned('[]')),
  },
  {
    reason: 'header_forbidden_param',
    step: 'header',
    what: 'the header names a jku',
    decide: () => decide(unsigned('{"alg":"RS256","kid":"k1","jku":"https://evil.example"}')),
  },
  {
    reason: 'alg_not_allowed',
    step: 'header',
    what: 'an HMAC alg (the token gate)',
    decide: () => decide(unsigned('{"alg":"HS256","kid":"k1"}')),
  },
  {
    reason: 'alg_not_allowed',
    step: 'header',
    what: "an alg outside the issuer's list (the issuer's header check)",
    decide: async () => decide(await signToken(rs384, claims())),
  },
  {
    reason: 'typ_invalid',
    step: 'header',
    what: 'no typ for an issuer that requires one',
    decide: async () => decide(await signToken(key, claims({ iss: TYPED }))),
  },
  {
    reason: 'kid_missing',
    step: 'header',
    what: 'no kid',
    decide: () => decide(unsigned('{"alg":"RS256"}')),
  },
  {
    reason: 'kid_invalid',
    step: 'header',
    what: 'an empty kid',
    decide: () => decide(unsigned('{"alg":"RS256","kid":""}')),
  },
  {
    reason: 'kid_unknown',
    step: 'key',
    what: 'a kid the JWKS does not publish',
    decide: async () => decide(await signToken(key, claims(), { kid: 'unpublished' })),
  },
  {
    reason: 'jwks_ambiguous_key',
    step: 'key',
    what: 'two JWKS keys share the kid',
    decide: async () => decide(await signToken(key, claims({ iss: AMBIGUOUS }))),
  },
  {
    reason: 'issuer_invalid',
    step: 'issuer',
    what: 'iss is not configured',
    decide: async () => decide(await signToken(key, claims({ iss: 'https://unknown.example.org' }))),
  },
  {
    reason: 'tenant_not_allowed',
    step: 'claims',
    what: 'tid is not the tenant',
    decide: async () =>
      decide(await signToken(key, claims({ iss: TENANT, tid: '99999999-2222-3333-4444-555555555555' }))),
  },
  {
    reason: 'signature_invalid',
    step: 'signature',
    what: 'signed by another key with the same kid',
    decide: async () => decide(await signToken(twin, claims())),
  },
  {
    reason: 'claims_invalid',
    step: 'claims',
    what: 'the payload is not a JSON object (the token gate)',
    decide: async () => decide(signRaw(key, '{"alg":"RS256","kid":"k1"}', '[1]')),
  },
  {
    reason: 'claims_invalid',
    step: 'claims',
    what: 'sub is a number (the claim checks)',
    decide: async () => decide(await signToken(key, claims({ sub: 5 }))),
  },
  {
    reason: 'claim_missing',
    step: 'claims',
    what: 'no sub',
    decide: async () => decide(await signToken(key, claims({ sub: undefined }))),
  },
  {
    reason: 'audience_invalid',
    step: 'claims',
    what: 'aud is another API',
    decide: async () => decide(await signToken(key, claims({ aud: 'other-api' }))),
  },
  {
    reason: 'client_not_allowed',
    step: 'claims',
    what: 'the client is not listed',
    decide: async () => decide(await signToken(key, claims({ iss: CLIENTS, client_id: 'stranger' }))),
  },
  {
    reason: 'token_type_invalid',
    step: 'claims',
    what: 'an ID token',
    decide: async () => decide(await signToken(key, claims({ token_use: 'id' }))),
  },
  {
    reason: 'token_expired',
    step: 'claims',
    what: 'exp is past',
    decide: async () =>
      decide(await signToken(key, claims({ iat: epoch(NOW, -600), exp: epoch(NOW, -300) }))),
  },
  {
    reason: 'token_not_yet_valid',
    step: 'claims',
    what: 'nbf is ahead',
    decide: async () => decide(await signToken(key, claims({ nbf: epoch(NOW, 300) }))),
  },
  {
    reason: 'token_lifetime_exceeded',
    step: 'claims',
    what: 'iat is older than the window',
    decide: async () => decide(await signToken(key, claims({ iat: epoch(NOW, -50_000) }))),
  },
  {
    reason: 'idp_unavailable',
    step: 'key',
    what: 'the JWKS answers 503 with nothing cached',
    decide: async () => decide(await signToken(key, claims({ iss: DOWN }))),
  },
  {
    reason: 'config_unavailable',
    step: 'config',
    what: 'no configuration source is set',
    decide: async () => {
      const loader = createConfigLoader({ env: {} });
      return decide(await signToken(key, claims()), { deps: { ...deps(), config: loader } });
    },
  },
  {
    reason: 'config_invalid',
    step: 'config',
    what: 'the configuration does not validate',
    decide: async () => {
      const loader = createConfigLoader({ env: { AUTHORIZER_CONFIG: '{"issuers":[]}' } });
      return decide(await signToken(key, claims()), { deps: { ...deps(), config: loader } });
    },
  },
  {
    reason: 'deadline_exceeded',
    step: 'request',
    what: 'the configuration never arrives',
    decide: async () =>
      decide(await signToken(key, claims()), { deps: deps({ config: { load: never } }), budgetMs: 50 }),
  },
  {
    reason: 'deadline_exceeded',
    step: 'issuer',
    what: 'the key store never answers',
    decide: async () => {
      const keys: KeyStore = { ...keyStore(), peekKey: () => undefined, getKey: never };
      return decide(await signToken(key, claims()), { deps: deps({ keys }), budgetMs: 50 });
    },
  },
  {
    reason: 'internal_error',
    step: 'request',
    what: 'a dependency throws',
    decide: async () => {
      const throwing = {
        load: () => Promise.resolve(loadedConfig(CONFIG)),
        peek: (): ConfigState => {
          throw new TypeError('boom');
        },
      };
      return decide(await signToken(key, claims()), { deps: deps({ config: throwing }) });
    },
  },
  {
    reason: 'internal_error',
    step: 'policy',
    what: 'the matched role is outside the deployment allowlist',
    decide: async () =>
      decide(await signToken(key, claims()), {
        deps: deps({ roleAllowlist: new Set(['arn:aws:iam::1:role/X']) }),
      }),
  },
];

describe('the pipeline step of every decision', () => {
  it('has a case for every reason code, and an expected step for each', () => {
    // Act
    const covered = new Set(CASES.map((c) => c.reason));

    // Assert
    expect(REASON_CODES.filter((code) => !covered.has(code))).toEqual([]);
    for (const c of CASES) expect(EXPECTED_STEPS[c.reason], c.what).toContain(c.step);
  });

  it.each(CASES.map((c) => [`${c.reason} at ${c.step}: ${c.what}`, c] as const))('%s', async (_title, c) => {
    // Act
    const decision = await c.decide();

    // Assert
    expect(decision.reason).toBe(c.reason);
    expect(concludingStep(decision)).toEqual({ step: c.step, ok: c.reason === 'allowed' });
    // Against the independent table too, not only the case's own step.
    expect(EXPECTED_STEPS[decision.reason]).toContain(concludingStep(decision)?.step);
  });
});

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(SRC, file));
}

/** The top-level arguments of each call `name(...)` in `text`. */
function callArguments(text: string, name: string): string[][] {
  const calls: string[][] = [];
  for (let at = text.indexOf(`${name}(`); at >= 0; at = text.indexOf(`${name}(`, at + 1)) {
    const args: string[] = [];
    let depth = 0;
    let current = '';
    for (const char of text.slice(at + name.length + 1)) {
      if (depth === 0 && (char === ',' || char === ')')) {
        args.push(current.trim());
        current = '';
        if (char === ')') break;
        continue;
      }
      if ('([{'.includes(char)) depth += 1;
      if (')]}'.includes(char)) depth -= 1;
      current += char;
    }
    calls.push(args.filter((arg) => arg !== ''));
  }
  return calls;
}

describe('where a step comes from', () => {
  it('is never computed from the spelling of a reason code anywhere in src/', () => {
    // Arrange: a string method called on a reason, or a pattern tested against one.
    const spelling =
      /\breason\b[\w.?]*\s*\.\s*(?:startsWith|endsWith|includes|indexOf|match|matchAll|search|split|slice|substring|replace)\s*\(|\.test\(\s*[\w.?]*\breason\b/i;

    // Act
    const offending = sourceFiles().flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({ line, where: `${file.slice(SRC.length + 1)}:${index + 1}` }))
        .filter(({ line }) => spelling.test(line))
        .map(({ where, line }) => `${where}: ${line.trim()}`),
    );

    // Assert
    expect(offending).toEqual([]);
  });

  it('is named at every conclusion in src/core/authorize.ts: a step literal, the current step or the step of a refusal', () => {
    // Arrange
    const text = readFileSync(join(SRC, 'core/authorize.ts'), 'utf8');
    const stepNames = Object.keys({
      request: 0,
      config: 0,
      format: 0,
      header: 0,
      issuer: 0,
      key: 0,
      signature: 0,
      claims: 0,
      policy: 0,
    } satisfies Record<StepName, 0>);
    const explicit = new RegExp(`^(?:'(?:${stepNames.join('|')})'|trail\\.currentStep|\\w+\\.step)$`);

    // Act
    const calls = callArguments(text, 'trail.finish');
    const derived = calls.map((args) => args[1] ?? '').filter((step) => !explicit.test(step));

    // Assert
    expect(calls.length).toBeGreaterThan(10);
    expect(derived).toEqual([]);
  });
});
