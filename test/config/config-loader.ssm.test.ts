/**
 * The SSM parameter source through the real SSMClient class, its `send` replaced by
 * aws-sdk-client-mock: TTL refresh, last-good-config, backoff and single-flight.
 */

import { GetParameterCommand, ParameterNotFound, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ConfigEvent,
  type ConfigLoaderOptions,
  createConfigLoader,
} from '../../src/core/config/config-loader.ts';
import { createSsmParameterReader } from '../../src/core/config/ssm-parameter-reader.ts';
import {
  DUPLICATE_KEY_CONFIG_TEXT,
  DUPLICATE_KEY_ISSUE,
  TYPO_CONFIG_TEXT,
  TYPO_ISSUE,
  validConfigText,
} from '../support/fixtures/config.ts';

const NAME = '/ahi/authorizer/config';
const TTL_MS = 300_000;
const live = () => new AbortController().signal;

const ssmMock = mockClient(SSMClient);

function parameter(value: string, version: number) {
  return { Parameter: { Name: NAME, Type: 'SecureString' as const, Value: value, Version: version } };
}

function throttling() {
  return new SSMServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Rate exceeded',
  });
}

function notFound() {
  return new ParameterNotFound({
    message: `Parameter ${NAME} not found.`,
    $metadata: { httpStatusCode: 400 },
  });
}

/** A loader on the parameter source with a frozen monotonic clock the test moves. */
function setUp(overrides: Partial<ConfigLoaderOptions> = {}) {
  const clock = { t: 1_000 };
  const events: ConfigEvent[] = [];
  const client = new SSMClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
  });
  const loader = createConfigLoader({
    env: { AUTHORIZER_CONFIG_PARAMETER: NAME },
    ssm: createSsmParameterReader({ client }),
    now: () => clock.t,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  return { loader, clock, events, calls: () => ssmMock.commandCalls(GetParameterCommand).length };
}

describe('createConfigLoader with an SSM parameter', () => {
  beforeEach(() => {
    ssmMock.reset();
  });

  afterEach(() => {
    ssmMock.reset();
  });

  it('loads the parameter with decryption and labels it with the SSM version', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).resolves(parameter(validConfigText(), 7));
    const { loader, events } = setUp();

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state).toMatchObject({ ok: true, loaded: { source: 'parameter', version: 'ssm:7' } });
    const [call] = ssmMock.commandCalls(GetParameterCommand);
    expect(call?.args[0].input).toEqual({ Name: NAME, WithDecryption: true });
    expect(events).toEqual([{ type: 'config_loaded', source: `parameter:${NAME}`, version: 'ssm:7' }]);
  });

  it('answers config_unavailable naming ThrottlingException, not the SDK message, at cold start', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).rejects(throttling());
    const { loader, events } = setUp();

    // Act
    const state = await loader.load(live());

    // Assert
    const detail = `could not read SSM parameter "${NAME}": ThrottlingException`;
    expect(state).toEqual({ ok: false, reason: 'config_unavailable', detail });
    expect(events).toEqual([{ type: 'config_read_failed', source: `parameter:${NAME}`, detail }]);
  });

  it('answers config_unavailable naming ParameterNotFound at cold start', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).rejects(notFound());
    const { loader } = setUp();

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state).toEqual({
      ok: false,
      reason: 'config_unavailable',
      detail: `could not read SSM parameter "${NAME}": ParameterNotFound`,
    });
  });

  it('answers config_invalid with the issues when the first value is invalid', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).resolves(parameter(TYPO_CONFIG_TEXT, 1));
    const { loader, events } = setUp();

    // Act
    const state = await loader.load(live());

    // Assert
    expect(state).toEqual({
      ok: false,
      reason: 'config_invalid',
      detail: '$.issuers[0].audiance: unknown key (check for a typo)',
      issues: [TYPO_ISSUE],
    });
    expect(events).toEqual([
      { type: 'config_rejected', source: `parameter:${NAME}`, version: 'ssm:1', issues: [TYPO_ISSUE] },
    ]);
  });

  it('serves from the cache without calling SSM until the TTL has passed', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).resolves(parameter(validConfigText(), 1));
    const { loader, clock, calls } = setUp();
    await loader.load(live());

    // Act
    clock.t += TTL_MS - 1;
    const state = await loader.load(live());

    // Assert
    expect(state).toMatchObject({ ok: true, loaded: { version: 'ssm:1' } });
    expect(calls()).toBe(1);
  });

  it('refreshes after the TTL and accepts a new valid version', async () => {
    // Arrange
    ssmMock
      .on(GetParameterCommand)
      .resolvesOnce(parameter(validConfigText('v1'), 1))
      .resolves(parameter(validConfigText('v2'), 2));
    const { loader, clock, events, calls } = setUp();
    await loader.load(live());

    // Act: past the TTL the last good config answers while the refresh runs; the next call gets v2.
    clock.t += TTL_MS;
    const served = await loader.load(live());
    await expect.poll(() => events.length).toBe(2);
    const state = await loader.load(live());

    // Assert
    expect(served).toMatchObject({ ok: true, loaded: { version: 'ssm:1' } });
    expect(calls()).toBe(2);
    expect(state).toMatchObject({ ok: true, loaded: { version: 'ssm:2' } });
    expect(state.ok && state.loaded.config.rules[0]?.name).toBe('v2');
    expect(events.map((e) => e.type === 'config_loaded' && e.version)).toEqual(['ssm:1', 'ssm:2']);
  });

  it('does not log config_loaded again when a refresh finds the same version', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).resolves(parameter(validConfigText(), 4));
    const { loader, clock, events, calls } = setUp();
    await loader.load(live());

    // Act
    clock.t += TTL_MS;
    await loader.load(live());

    // Assert
    expect(calls()).toBe(2);
    expect(events).toHaveLength(1);
  });

  it('takes the TTL from AUTHORIZER_CONFIG_TTL_SECONDS', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).resolves(parameter(validConfigText(), 1));
    const { loader, clock, calls } = setUp({
      env: { AUTHORIZER_CONFIG_PARAMETER: NAME, AUTHORIZER_CONFIG_TTL_SECONDS: '60' },
    });
    await loader.load(live());
    clock.t += 59_999;
    await loader.load(live());
    const before = calls();

    // Act
    clock.t += 1;
    await loader.load(live());

    // Assert
    expect(before).toBe(1);
    expect(calls()).toBe(2);
  });

  it.each(['30', '3601', '300s', '1e3'])(
    'answers config_invalid without calling SSM when AUTHORIZER_CONFIG_TTL_SECONDS is %s',
    async (ttl) => {
      // Arrange
      const { loader, calls } = setUp({
        env: { AUTHORIZER_CONFIG_PARAMETER: NAME, AUTHORIZER_CONFIG_TTL_SECONDS: ttl },
      });

      // Act
      const state = await loader.load(live());

      // Assert
      expect(state).toEqual({
        ok: false,
        reason: 'config_invalid',
        detail: `AUTHORIZER_CONFIG_TTL_SECONDS must be whole seconds from 60 to 3600 (got "${ttl}")`,
      });
      expect(calls()).toBe(0);
    },
  );

  it('keeps the last good config and logs config_rejected when a new version is invalid', async () => {
    // Arrange
    ssmMock
      .on(GetParameterCommand)
      .resolvesOnce(parameter(validConfigText('good'), 1))
      .resolves(parameter(TYPO_CONFIG_TEXT, 2));
    const { loader, clock, events } = setUp();
    await loader.load(live());

    // Act
    clock.t += TTL_MS;
    const state = await loader.load(live());

    // Assert
    expect(state).toMatchObject({ ok: true, loaded: { version: 'ssm:1' } });
    expect(state.ok && state.loaded.config.rules[0]?.name).toBe('good');
    await expect
      .poll(() => events[1])
      .toEqual({
        type: 'config_rejected',
        source: `parameter:${NAME}`,
        version: 'ssm:2',
        issues: [TYPO_ISSUE],
        keptVersion: 'ssm:1',
      });
  });

  it('serves the last good config at once while a stalled SSM refresh is still in flight', async () => {
    // Arrange: the refresh after the TTL never answers.
    let release: (value: unknown) => void = () => undefined;
    ssmMock
      .on(GetParameterCommand)
      .resolvesOnce(parameter(validConfigText('good'), 1))
      .callsFake(() => new Promise((resolve) => (release = resolve)));
    const { loader, clock, calls } = setUp();
    await loader.load(live());
    clock.t += TTL_MS;

    // Act: the caller's signal never aborts, so only the last good config can answer.
    const peeked = loader.peek();
    const loaded = await loader.load(live());

    // Assert
    expect(peeked).toMatchObject({ ok: true, loaded: { version: 'ssm:1' } });
    expect(loaded).toMatchObject({ ok: true, loaded: { version: 'ssm:1' } });
    expect(calls()).toBe(2);
    release(parameter(validConfigText('good'), 1));
  });

  it('keeps the last good config when a new version repeats a key, logging the key by its path', async () => {
    // Arrange: version 2 reads like the read-only rule of version 1 but would grant write.
    ssmMock
      .on(GetParameterCommand)
      .resolvesOnce(parameter(validConfigText('good'), 1))
      .resolves(parameter(DUPLICATE_KEY_CONFIG_TEXT, 2));
    const { loader, clock, events } = setUp();
    await loader.load(live());

    // Act
    clock.t += TTL_MS;
    const state = await loader.load(live());

    // Assert
    expect(state).toMatchObject({ ok: true, loaded: { version: 'ssm:1' } });
    expect(state.ok && state.loaded.config.rules[0]).toMatchObject({ name: 'good' });
    expect(state.ok && state.loaded.config.rules[0]?.operations).toBeUndefined();
    await expect
      .poll(() => events[1])
      .toEqual({
        type: 'config_rejected',
        source: `parameter:${NAME}`,
        version: 'ssm:2',
        issues: [DUPLICATE_KEY_ISSUE],
        keptVersion: 'ssm:1',
      });
    expect(await loader.load(live())).toMatchObject({ ok: true, loaded: { version: 'ssm:1' } });
  });

  it('keeps the last good config and logs config_read_failed when a refresh is throttled', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).resolvesOnce(parameter(validConfigText(), 1)).rejects(throttling());
    const { loader, clock, events } = setUp();
    await loader.load(live());

    // Act
    clock.t += TTL_MS;
    const state = await loader.load(live());

    // Assert
    expect(state).toMatchObject({ ok: true, loaded: { version: 'ssm:1' } });
    await expect
      .poll(() => events[1])
      .toEqual({
        type: 'config_read_failed',
        source: `parameter:${NAME}`,
        detail: `could not read SSM parameter "${NAME}": ThrottlingException`,
        keptVersion: 'ssm:1',
      });
  });

  it('waits a full TTL before retrying after a failed refresh, serving the last good config', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).resolvesOnce(parameter(validConfigText(), 1)).rejects(throttling());
    const { loader, clock, calls } = setUp();
    await loader.load(live());
    clock.t += TTL_MS;
    await loader.load(live());

    // Act
    clock.t += TTL_MS - 1;
    const state = await loader.load(live());

    // Assert
    expect(state.ok).toBe(true);
    expect(calls()).toBe(2);
  });

  it('answers from the cached failure without calling SSM inside the retry backoff', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).rejects(notFound());
    const { loader, clock, calls } = setUp({ retryBackoffMs: 1_000 });
    const first = await loader.load(live());

    // Act
    clock.t += 999;
    const second = await loader.load(live());

    // Assert
    expect(second).toBe(first);
    expect(calls()).toBe(1);
  });

  it('reads SSM again once the retry backoff has passed and recovers', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).rejectsOnce(notFound()).resolves(parameter(validConfigText(), 2));
    const { loader, clock, calls } = setUp({ retryBackoffMs: 1_000 });
    await loader.load(live());

    // Act
    clock.t += 1_000;
    const state = await loader.load(live());

    // Assert
    expect(calls()).toBe(2);
    expect(state).toMatchObject({ ok: true, loaded: { version: 'ssm:2' } });
  });

  it('rate-limits re-reads of an invalid value with no good config the same way', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).resolves(parameter(TYPO_CONFIG_TEXT, 1));
    const { loader, clock, calls } = setUp({ retryBackoffMs: 1_000 });
    await loader.load(live());
    clock.t += 500;
    await loader.load(live());
    const within = calls();

    // Act
    clock.t += 500;
    const state = await loader.load(live());

    // Assert
    expect(within).toBe(1);
    expect(calls()).toBe(2);
    expect(state).toMatchObject({ ok: false, reason: 'config_invalid' });
  });

  it('shares one SSM call between concurrent loads', async () => {
    // Arrange
    let answer: (value: ReturnType<typeof parameter>) => void = () => {};
    ssmMock.on(GetParameterCommand).callsFake(() => new Promise((resolve) => (answer = resolve)));
    const { loader, calls } = setUp();

    // Act
    const pending = [loader.load(live()), loader.load(live()), loader.load(live())];
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    answer(parameter(validConfigText(), 1));
    const states = await Promise.all(pending);

    // Assert
    expect(calls()).toBe(1);
    expect(states.every((s) => s.ok && s.loaded.version === 'ssm:1')).toBe(true);
  });

  it('serves the last good config when the signal aborts during a refresh', async () => {
    // Arrange
    ssmMock
      .on(GetParameterCommand)
      .resolvesOnce(parameter(validConfigText(), 1))
      .callsFake(() => new Promise(() => {}));
    const { loader, clock } = setUp();
    await loader.load(live());
    clock.t += TTL_MS;

    // Act
    const state = await loader.load(AbortSignal.timeout(20));

    // Assert
    expect(state).toMatchObject({ ok: true, loaded: { version: 'ssm:1' } });
  });

  it('answers config_unavailable when the signal aborts before the first read completes', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).callsFake(() => new Promise(() => {}));
    const { loader } = setUp();

    // Act
    const state = await loader.load(AbortSignal.timeout(20));

    // Assert
    expect(state).toEqual({
      ok: false,
      reason: 'config_unavailable',
      detail: 'timed out reading configuration',
    });
  });
});
