/**
 * The Lambda composition (middy over the project's middlewares), from the sources, with an injected
 * log writer and clocks: one audit line per invocation, the fail-closed layer, the guard in front of
 * middy, middy's own timeout left off, and settings read from the injected environment.
 */

import { createRequire, syncBuiltinESMExports } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AuthorizerOptions, createAuthorizer } from '../../src/core/lambda/create-authorizer.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { epoch, jwksOf, makeKey, signToken } from '../support/keys.ts';
import { match } from '../support/matchers.ts';

const ISS = 'https://idp.example.org';
const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const ROLE = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';
const key = await makeKey('RS256', 'k1');

let idp: IdpServer;
beforeAll(async () => {
  idp = await startIdpServer();
  idp.on('/jwks', { kind: 'json', body: jwksOf(key) });
  idp.on('/hang', { kind: 'hang' });
});
afterAll(() => idp.close());
afterEach(() => {
  vi.restoreAllMocks();
  syncBuiltinESMExports();
});

const require = createRequire(import.meta.url);

const config = (jwksPath = '/jwks') => ({
  issuers: [{ issuer: ISS, jwksUri: `${idp.url}${jwksPath}`, audience: 'api' }],
  rules: [{ name: 'readers', claims: { scope: 'read' }, roleArn: ROLE }],
});

async function token(): Promise<string> {
  const now = Date.now();
  return signToken(key, {
    iss: ISS,
    sub: 's',
    aud: 'api',
    scope: 'read',
    iat: epoch(now),
    exp: epoch(now, 300),
  });
}

const event = async () => ({ datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: await token() });
const lambdaContext = (requestId: string, remainingMs = 3000) => ({
  awsRequestId: requestId,
  getRemainingTimeInMillis: () => remainingMs,
});

/** A fresh authorizer writing into `lines`; the init (config load, key prefetch) has finished. */
async function setup(env: Record<string, string>, options: Partial<AuthorizerOptions> = {}) {
  const lines: string[] = [];
  const authorizer = createAuthorizer({ env, write: (line) => lines.push(line), ...options });
  await authorizer.ready;
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const decisions = () => records().filter((record) => record['message'] === 'authorization decision');
  return { handler: authorizer.handler, lines, records, decisions };
}

describe('createAuthorizer', () => {
  it('answers each invocation with one audit line naming the request, cold start only on the first', async () => {
    // Arrange
    const { handler, decisions } = await setup({ AUTHORIZER_CONFIG: JSON.stringify(config()) });

    // Act
    const first = await handler(await event(), lambdaContext('r-1') as never);
    const second = await handler(await event(), lambdaContext('r-2') as never);

    // Assert
    expect(first).toEqual({ isTokenValid: true, roleArn: ROLE });
    expect(second).toEqual({ isTokenValid: true, roleArn: ROLE });
    expect(decisions().map((record) => [record['requestId'], record['coldStart'], record['reason']])).toEqual(
      [
        ['r-1', true, 'allowed'],
        ['r-2', false, 'allowed'],
      ],
    );
  });

  it('stamps log lines with the injected wall clock', async () => {
    // Arrange
    const frozen = Date.now() - 5_000;
    const { handler, decisions } = await setup(
      { AUTHORIZER_CONFIG: JSON.stringify(config()) },
      { now: () => frozen },
    );

    // Act
    await handler(await event(), lambdaContext('r-1') as never);

    // Assert
    expect(decisions()[0]?.['ts']).toBe(new Date(frozen).toISOString());
  });

  it("names Lambda's function in every metric record: the decision, the fail-closed deny and the IdP fetch", async () => {
    // Arrange
    const { handler, records } = await setup({
      AUTHORIZER_CONFIG: JSON.stringify(config()),
      AWS_LAMBDA_FUNCTION_NAME: 'ahi-authorizer-staging',
    });

    const throwsInMiddy = {
      get awsRequestId(): string {
        throw new Error('boom');
      },
    };
    const throwsBeforeMiddy = {
      get getRemainingTimeInMillis(): () => number {
        throw new Error('boom');
      },
    };

    // Act
    await handler(await event(), lambdaContext('r-1') as never);
    await handler(await event(), throwsInMiddy as never);
    await handler(await event(), throwsBeforeMiddy as never);

    // Assert: every EMF record (init's key prefetch included) carries the name its dimensions read.
    const metricRecords = records().filter((record) => '_aws' in record);
    expect(metricRecords.map((record) => record['reason'] ?? record['kind'])).toEqual([
      'jwks',
      'allowed',
      'internal_error',
      'internal_error',
    ]);
    for (const record of metricRecords) expect(record['function']).toBe('ahi-authorizer-staging');
  });

  it.each([
    ['unset', {}],
    ['empty', { AWS_LAMBDA_FUNCTION_NAME: '' }],
  ])('names the function `local` outside Lambda (name %s)', async (_name, env) => {
    // Arrange
    const { handler, records } = await setup({ AUTHORIZER_CONFIG: JSON.stringify(config()), ...env });

    // Act
    await handler(await event(), lambdaContext('r-1') as never);

    // Assert
    const metricRecords = records().filter((record) => '_aws' in record);
    expect(metricRecords.length).toBeGreaterThanOrEqual(2);
    for (const record of metricRecords) expect(record['function']).toBe('local');
  });

  it('denies with internal_error and one audit line when reading the context throws (onError layer)', async () => {
    // Arrange
    const { handler, decisions } = await setup({ AUTHORIZER_CONFIG: JSON.stringify(config()) });
    const hostile = {
      get awsRequestId(): string {
        throw new Error('boom');
      },
    };

    // Act
    const result = await handler(await event(), hostile as never);

    // Assert
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(decisions().map((record) => record['reason'])).toEqual(['internal_error']);
  });

  it('denies with internal_error when the context throws before middy runs a middleware (the guard)', async () => {
    // Arrange: middy reads getRemainingTimeInMillis itself, before the first middleware.
    const { handler, decisions } = await setup({ AUTHORIZER_CONFIG: JSON.stringify(config()) });
    const hostile = {
      get getRemainingTimeInMillis(): () => number {
        throw new Error('boom');
      },
    };

    // Act
    const result = await handler(await event(), hostile as never);

    // Assert
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(decisions().map((record) => record['reason'])).toEqual(['internal_error']);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'not a context'],
  ])('decides normally with a context that is %s', async (_name, context) => {
    // Arrange
    const { handler, decisions } = await setup({ AUTHORIZER_CONFIG: JSON.stringify(config()) });

    // Act
    const result = await handler(await event(), context as never);

    // Assert
    expect(result).toEqual({ isTokenValid: true, roleArn: ROLE });
    expect(decisions()).toHaveLength(1);
  });

  it("schedules no timer for a repeated token: middy's early timeout is off, the deadline is ours", async () => {
    // Arrange: middy's default early timeout arms a node:timers timer on every invocation; the
    // project's deadline needs none while the warm caches answer.
    const { handler, decisions } = await setup({ AUTHORIZER_CONFIG: JSON.stringify(config()) });
    const repeated = await event();
    await handler(repeated, lambdaContext('r-1') as never);
    const timers = require('node:timers') as typeof import('node:timers');
    const fromTimers = vi.spyOn(timers, 'setTimeout');
    syncBuiltinESMExports(); // middy's `import { setTimeout } from 'node:timers'` sees the spy
    const global = vi.spyOn(globalThis, 'setTimeout');

    // Act
    const result = await handler(repeated, lambdaContext('r-2') as never);

    // Assert
    expect(result).toEqual({ isTokenValid: true, roleArn: ROLE });
    expect(decisions().at(-1)).toMatchObject({ tokenCache: 'hit' });
    expect(fromTimers).not.toHaveBeenCalled();
    expect(global).not.toHaveBeenCalled();
  });

  it('keeps the answer when the log writer throws', async () => {
    // Arrange
    const authorizer = createAuthorizer({
      env: { AUTHORIZER_CONFIG: JSON.stringify(config()) },
      write: () => {
        throw new Error('disk full');
      },
    });
    await authorizer.ready;

    // Act
    const result = await authorizer.handler(await event(), lambdaContext('r-1') as never);

    // Assert
    expect(result).toEqual({ isTokenValid: true, roleArn: ROLE });
  });

  it('refuses a setting out of range with an ERROR line naming it and its fallback', async () => {
    // Act
    const { records } = await setup({
      AUTHORIZER_CONFIG: JSON.stringify(config()),
      AUTHORIZER_TOKEN_CACHE_SIZE: 'lots',
    });

    // Assert
    expect(records()).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        setting: 'AUTHORIZER_TOKEN_CACHE_SIZE',
        message: match.stringMatching(
          /^AUTHORIZER_TOKEN_CACHE_SIZE="lots" refused: expected an integer from 0 to 100000/,
        ),
        fallback: 1000,
      }),
    );
  });

  it.each([
    ['a budget that outruns the second', { AUTHORIZER_BUDGET_MS: '2000' }, 'AUTHORIZER_BUDGET_MS', 800],
    [
      'an on-demand init longer than the budget leaves a request',
      { AUTHORIZER_BUDGET_MS: '600', AUTHORIZER_INIT_BUDGET_MS: '580' },
      'AUTHORIZER_INIT_BUDGET_MS',
      300,
    ],
    [
      'a provisioned init beyond Lambda init phase',
      { AUTHORIZER_PROVISIONED_INIT_BUDGET_MS: '12000' },
      'AUTHORIZER_PROVISIONED_INIT_BUDGET_MS',
      5000,
    ],
  ])('refuses %s at init and uses the default', async (_name, env, setting, fallback) => {
    // Act
    const { records } = await setup({ AUTHORIZER_CONFIG: JSON.stringify(config()), ...env });

    // Assert
    expect(records()).toContainEqual(expect.objectContaining({ level: 'ERROR', setting, fallback }));
  });

  it('gives a first request that arrives well after init its full budget (it did not wait for init)', async () => {
    // Arrange: no prefetch at init; the JWKS answers after 300 ms; the request comes 1 s after init,
    // as after Lambda's initialisation ahead of traffic.
    idp.on('/slow-jwks', { kind: 'json', body: jwksOf(key), delayMs: 300 });
    const { handler, decisions } = await setup({
      AUTHORIZER_CONFIG: JSON.stringify(config('/slow-jwks')),
      AUTHORIZER_INIT_BUDGET_MS: '0',
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    // Act
    const result = await handler(await event(), lambdaContext('r-1') as never);

    // Assert
    expect(decisions()[0]).toMatchObject({ coldStart: true, reason: 'allowed' });
    expect(result).toEqual({ isTokenValid: true, roleArn: ROLE });
  });

  it('returns only roles on the deployment allowlist', async () => {
    // Arrange
    const { handler, decisions } = await setup({
      AUTHORIZER_CONFIG: JSON.stringify(config()),
      AUTHORIZER_ALLOWED_ROLE_ARNS: 'arn:aws:iam::111122223333:role/healthimaging/Other',
    });

    // Act
    const result = await handler(await event(), lambdaContext('r-1') as never);

    // Assert
    expect(result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(decisions()[0]).toMatchObject({ reason: 'internal_error' });
  });

  describe('the subject in the audit line', () => {
    const KEY = 'unit-test-audit-hash-key-0123456789';

    it.each([
      [
        'hashes the subject by default when the stack gives a key',
        { AUTHORIZER_AUDIT_HASH_KEY: KEY },
        'subHash',
      ],
      ['omits the subject by default without a key', {}, undefined],
      ['logs the subject as is when asked to', { AUTHORIZER_AUDIT_SUBJECT: 'plain' }, 'sub'],
      [
        'omits the subject when asked to, even with a key',
        { AUTHORIZER_AUDIT_SUBJECT: 'omit', AUTHORIZER_AUDIT_HASH_KEY: KEY },
        undefined,
      ],
    ])('%s', async (_name, env, field) => {
      // Arrange
      const { handler, decisions, records } = await setup({
        AUTHORIZER_CONFIG: JSON.stringify(config()),
        ...env,
      });

      // Act
      await handler(await event(), lambdaContext('r-1') as never);

      // Assert
      const record = decisions()[0]!;
      expect(['sub', 'subHash'].filter((name) => name in record)).toEqual(field === undefined ? [] : [field]);
      expect(records()[0]).toMatchObject({ message: 'audit lines name the subject by mode' });
    });

    it.each([
      ['hash mode without a key', { AUTHORIZER_AUDIT_SUBJECT: 'hash' }, 'AUTHORIZER_AUDIT_HASH_KEY'],
      [
        'a key too short to resist guessing',
        { AUTHORIZER_AUDIT_HASH_KEY: 'short' },
        'AUTHORIZER_AUDIT_HASH_KEY',
      ],
      ['an unknown mode', { AUTHORIZER_AUDIT_SUBJECT: 'email' }, 'AUTHORIZER_AUDIT_SUBJECT'],
    ])('refuses %s with an ERROR line and logs no subject', async (_name, env, setting) => {
      // Arrange
      const { handler, decisions, records } = await setup({
        AUTHORIZER_CONFIG: JSON.stringify(config()),
        ...env,
      });

      // Act
      await handler(await event(), lambdaContext('r-1') as never);

      // Assert
      expect(records()).toContainEqual(expect.objectContaining({ level: 'ERROR', setting }));
      expect(decisions()[0]).not.toHaveProperty('sub');
      expect(decisions()[0]).not.toHaveProperty('subHash');
    });
  });
});
