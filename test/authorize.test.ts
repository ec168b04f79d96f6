/**
 * authorize() with injected dependencies: the safety nets that well-behaved dependencies never
 * trigger (deadline_exceeded, internal_error), and the guarantee that nothing escapes or overruns.
 */

import { describe, expect, it } from 'vitest';
import { type AuthorizeDeps, authorize } from '../src/core/authorize.ts';
import type { ConfigState } from '../src/core/config/config-loader.ts';
import type { AuthorizerConfigInput } from '../src/core/config/schema.ts';
import { createDeadline } from '../src/core/kernel/deadline.ts';
import type { KeyLookupResult, KeyStore } from '../src/core/keys/key-store.ts';
import { createVerifiedTokenCache } from '../src/core/token/verified-token-cache.ts';
import { epoch, makeKey, signToken, type TestKey } from './support/keys.ts';
import { DS, loadedConfig } from './support/security-pipeline.ts';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const ISS = 'https://idp.example.org';
const CONFIG: AuthorizerConfigInput = {
  issuers: [{ issuer: ISS, jwksUri: 'https://idp.example.org/jwks', audience: 'api' }],
  rules: [{ name: 'readers', claims: { scope: 'read' }, roleArn: 'arn:aws:iam::111122223333:role/R' }],
};

/** Deps whose key store returns the test key, as a warm cache would. */
function depsWithKey(key: TestKey, nowMs: number): Promise<AuthorizeDeps> {
  const publicKey: Extract<KeyLookupResult, { ok: true }>['key'] = key.verifyKey;
  return Promise.resolve({
    config: { load: () => Promise.resolve(loadedConfig(CONFIG)) },
    keys: {
      ...unusedKeys,
      getKey: () =>
        Promise.resolve<KeyLookupResult>({
          ok: true,
          key: publicKey,
          cacheState: 'fresh',
          keysAgeMs: 5,
          keySetGeneration: 1,
        }),
    },
    now: () => nowMs,
  });
}

async function event() {
  const key = await makeKey('RS256', 'k1');
  const token = await signToken(key, {
    iss: ISS,
    sub: 's',
    aud: 'api',
    scope: 'read',
    iat: epoch(NOW, -10),
    exp: epoch(NOW, 300),
  });
  return { key, event: { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: token } };
}

const unusedKeys = {
  getKey: () => Promise.reject(new Error('not expected')),
  peekKey: () => undefined,
  prefetch: () => Promise.resolve(),
  snapshot: () => ({ kids: [] }),
  clear: () => undefined,
} as unknown as KeyStore;

describe('authorize', () => {
  it('denies with deadline_exceeded when a dependency ignores its signal past the budget', async () => {
    const deps: AuthorizeDeps = {
      config: { load: () => new Promise<ConfigState>(() => undefined) },
      keys: unusedKeys,
      now: () => NOW,
    };
    const { event: e } = await event();
    const started = performance.now();
    const { decision } = await authorize(e, deps, createDeadline(60));
    expect(decision.reason).toBe('deadline_exceeded');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('keeps a deadline answer exactly as it was answered when the pipeline finishes late', async () => {
    // Arrange: the configuration arrives after the deadline answered; the pipeline then runs on.
    let release: (state: ConfigState) => void = () => undefined;
    const deps: AuthorizeDeps = {
      config: { load: () => new Promise<ConfigState>((resolve) => (release = resolve)) },
      keys: unusedKeys,
      now: () => NOW,
    };
    const { event: e } = await event();
    const { decision } = await authorize(e, deps, createDeadline(30));
    const answered = structuredClone(decision);

    // Act
    release(loadedConfig(CONFIG));
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Assert
    expect(decision.reason).toBe('deadline_exceeded');
    expect(decision).toEqual(answered);
  });

  it('denies with internal_error when a dependency throws', async () => {
    const deps: AuthorizeDeps = {
      config: { load: () => Promise.resolve(loadedConfig(CONFIG)) },
      keys: { ...unusedKeys, getKey: () => Promise.reject(new TypeError('boom')) },
      now: () => NOW,
    };
    const { event: e } = await event();
    const { decision } = await authorize(e, deps, createDeadline(500));
    expect(decision.reason).toBe('internal_error');
    expect(JSON.stringify(decision)).not.toContain('boom');
  });

  it('names signature_invalid, not the claim failure, for a forged token whose claims also fail', async () => {
    // Arrange: the claims are checked while jose verifies, but count only after the signature.
    const { key } = await event();
    const forger = await makeKey('RS256', 'k1');
    const expired = await signToken(forger, {
      iss: ISS,
      sub: 's',
      aud: 'other-api',
      scope: 'read',
      iat: epoch(NOW, -7_200),
      exp: epoch(NOW, -3_600),
    });
    const deps = await depsWithKey(key, NOW);

    // Act
    const { decision, policyTrace } = await authorize(
      { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: expired },
      deps,
      createDeadline(500),
    );

    // Assert
    expect(decision.reason).toBe('signature_invalid');
    expect(decision.verified).toBeUndefined();
    expect(policyTrace).toBeUndefined();
    expect(decision.steps.at(-1)).toMatchObject({ step: 'signature', ok: false });
  });

  it('names the claim failure, not the policy, for a genuine token whose claims fail', async () => {
    // Arrange
    const { key } = await event();
    const expired = await signToken(key, {
      iss: ISS,
      sub: 's',
      aud: 'api',
      scope: 'write',
      iat: epoch(NOW, -7_200),
      exp: epoch(NOW, -3_600),
    });
    const deps = await depsWithKey(key, NOW);

    // Act
    const { decision, policyTrace } = await authorize(
      { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: expired },
      deps,
      createDeadline(500),
    );

    // Assert
    expect(decision.reason).toBe('token_expired');
    expect(policyTrace).toBeUndefined();
  });

  it('allows with the rule role and records the verified facts and every passed step', async () => {
    const { key, event: e } = await event();
    const deps = await depsWithKey(key, NOW);
    const { decision, policyTrace } = await authorize(e, deps, createDeadline(500));
    expect(decision.reason).toBe('allowed');
    expect(decision.roleArn).toBe('arn:aws:iam::111122223333:role/R');
    expect(decision.verified).toMatchObject({ iss: ISS, sub: 's' });
    expect(decision.steps.map((s) => s.step)).toEqual([
      'request',
      'config',
      'format',
      'header',
      'issuer',
      'key',
      'signature',
      'claims',
      'policy',
    ]);
    expect(policyTrace?.[0]?.outcome).toBe('matched');
  });

  it('denies an empty iss with issuer_invalid before any key lookup (no configured issuer is empty)', async () => {
    // Arrange: the key store throws if asked, so an answer proves no key was looked up.
    const key = await makeKey('RS256', 'k1');
    const token = await signToken(key, {
      iss: '',
      sub: 's',
      aud: 'api',
      iat: epoch(NOW, -10),
      exp: epoch(NOW, 300),
    });
    const deps: AuthorizeDeps = {
      config: { load: () => Promise.resolve(loadedConfig(CONFIG)) },
      keys: unusedKeys,
      now: () => NOW,
    };

    // Act
    const { decision } = await authorize(
      { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: token },
      deps,
      createDeadline(500),
    );

    // Assert
    expect(decision.reason).toBe('issuer_invalid');
  });

  it('uses the injected clock for time claims (a token valid now is expired a day later)', async () => {
    const { key, event: e } = await event();
    const deps = await depsWithKey(key, NOW + 86_400_000);
    const { decision } = await authorize(e, deps, createDeadline(500));
    expect(decision.reason).toBe('token_expired');
    expect(decision.verified).toBeUndefined();
  });
});

describe('authorize with the verified-token cache', () => {
  async function setup() {
    const key = await makeKey('RS256', 'k1');
    const publicKey: Extract<KeyLookupResult, { ok: true }>['key'] = key.verifyKey;
    let now = NOW;
    let generation = 1;
    let version = 'v1';
    const calls = { getKey: 0 };
    const deps: AuthorizeDeps = {
      config: {
        load: () => {
          const state = loadedConfig(CONFIG);
          return Promise.resolve(
            state.ok ? { ok: true as const, loaded: { ...state.loaded, version } } : state,
          );
        },
      },
      keys: {
        ...unusedKeys,
        getKey: () => {
          calls.getKey += 1;
          return Promise.resolve<KeyLookupResult>({
            ok: true,
            key: publicKey,
            cacheState: 'fresh',
            keysAgeMs: 5,
            keySetGeneration: generation,
          });
        },
        keySetGeneration: () => generation,
      },
      now: () => now,
      tokenCache: createVerifiedTokenCache({ now: () => now }),
    };
    const tokenWith = (claims: Record<string, unknown> = {}) =>
      signToken(key, {
        iss: ISS,
        sub: 's',
        aud: 'api',
        scope: 'read',
        iat: epoch(NOW, -10),
        exp: epoch(NOW, 300),
        ...claims,
      });
    const run = async (token: string) =>
      (
        await authorize(
          { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: token },
          deps,
          createDeadline(500),
        )
      ).decision;
    return {
      deps,
      calls,
      tokenWith,
      run,
      advance: (ms: number) => (now += ms),
      rotateKeys: () => (generation += 1),
      changeConfig: () => (version = 'v2'),
    };
  }

  it('answers a repeated token from the cache without looking up the key again', async () => {
    const t = await setup();
    const token = await t.tokenWith();

    const first = await t.run(token);
    const second = await t.run(token);

    expect(first).toMatchObject({ reason: 'allowed', tokenCache: 'miss' });
    expect(second).toMatchObject({ reason: 'allowed', tokenCache: 'hit', roleArn: first.roleArn });
    expect(t.calls.getKey).toBe(1);
  });

  it('still checks exp against now for a cached token', async () => {
    const t = await setup();
    const token = await t.tokenWith({ exp: epoch(NOW, 60) });
    await t.run(token);

    t.advance(61_000 + 30_000); // past exp and the 30 s clock tolerance

    expect((await t.run(token)).reason).toBe('token_expired');
  });

  it('verifies again after the issuer key set changes or the configuration changes', async () => {
    const t = await setup();
    const token = await t.tokenWith();
    await t.run(token);

    t.rotateKeys();
    const afterRotation = await t.run(token);
    t.changeConfig();
    const afterConfig = await t.run(token);

    expect(afterRotation.tokenCache).toBe('miss');
    expect(afterConfig.tokenCache).toBe('miss');
    expect(t.calls.getKey).toBe(3);
  });

  it('never caches a token that failed its claims', async () => {
    const t = await setup();
    const token = await t.tokenWith({ aud: 'someone-else' });

    const first = await t.run(token);
    const second = await t.run(token);

    expect(first.reason).toBe('audience_invalid');
    expect(second).toMatchObject({ reason: 'audience_invalid', tokenCache: 'miss' });
    expect(t.calls.getKey).toBe(2);
  });

  it('does not let a tampered copy of a cached token hit the cache', async () => {
    const t = await setup();
    const token = await t.tokenWith();
    await t.run(token);
    const [h, p, sig] = token.split('.') as [string, string, string];
    const tampered = `${h}.${p}.${sig.slice(0, -2)}${sig.at(-2) === 'A' ? 'B' : 'A'}${sig.at(-1)}`;

    const decision = await t.run(tampered);

    expect(decision.tokenCache).toBe('miss');
    expect(decision.reason).toBe('signature_invalid');
  });
});
