/**
 * The SSM reader with the real SDK: against a loopback server speaking the SSM JSON protocol
 * (request shape, short timeouts and two attempts, loader abort) and under aws-sdk-client-mock
 * (error names only, the abort signal reaches `send`).
 */

import { AccessDeniedException, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConfigLoader } from '../../src/core/config/config-loader.ts';
import { createSsmParameterReader } from '../../src/core/config/ssm-parameter-reader.ts';
import { loopbackClientConfig, type SsmServer, startSsmServer } from '../support/ssm-server.ts';
import { validConfigText } from '../support/fixtures/config.ts';

const NAME = '/ahi/authorizer/config';
const live = () => new AbortController().signal;

describe('createSsmParameterReader against a loopback SSM endpoint', () => {
  let server: SsmServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('sends a signed GetParameter with decryption and returns the value and version', async () => {
    // Arrange
    server = await startSsmServer({ kind: 'parameter', value: validConfigText(), version: 3 });
    const reader = createSsmParameterReader({ clientConfig: loopbackClientConfig(server.endpoint) });

    // Act
    const result = await reader.read(NAME, live());

    // Assert
    expect(result).toEqual({ ok: true, value: validConfigText(), version: 'ssm:3' });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request).toMatchObject({
      method: 'POST',
      url: '/',
      target: 'AmazonSSM.GetParameter',
      contentType: 'application/x-amz-json-1.1',
      body: { Name: NAME, WithDecryption: true },
    });
    expect(request?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/ssm\//,
    );
  });

  it('returns the modelled error name from an SSM error response', async () => {
    // Arrange
    server = await startSsmServer({
      kind: 'error',
      status: 400,
      type: 'ParameterNotFound',
      message: 'secret-looking message',
    });
    const reader = createSsmParameterReader({ clientConfig: loopbackClientConfig(server.endpoint) });

    // Act
    const result = await reader.read(NAME, live());

    // Assert
    expect(result).toEqual({ ok: false, detail: 'ParameterNotFound' });
  });

  it('gives up on a hung endpoint after two attempts bounded by the request timeout', async () => {
    // Arrange
    server = await startSsmServer({ kind: 'hang' });
    const reader = createSsmParameterReader({ clientConfig: loopbackClientConfig(server.endpoint) });

    // Act
    const result = await reader.read(NAME, AbortSignal.timeout(10_000));

    // Assert
    expect(result).toEqual({ ok: false, detail: 'TimeoutError' });
    expect(server.requests).toHaveLength(2);
  });

  it('lets a loader read the configuration through the real client', async () => {
    // Arrange
    server = await startSsmServer({ kind: 'parameter', value: validConfigText('over-http'), version: 3 });
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG_PARAMETER: NAME },
      ssm: createSsmParameterReader({ clientConfig: loopbackClientConfig(server.endpoint) }),
    });

    // Act
    const state = await loader.load(AbortSignal.timeout(5_000));

    // Assert
    expect(state).toMatchObject({ ok: true, loaded: { source: 'parameter', version: 'ssm:3' } });
    expect(state.ok && state.loaded.config.rules[0]?.name).toBe('over-http');
  });

  it('answers config_unavailable when the signal aborts while the endpoint hangs', async () => {
    // Arrange
    server = await startSsmServer({ kind: 'hang' });
    const loader = createConfigLoader({
      env: { AUTHORIZER_CONFIG_PARAMETER: NAME },
      ssm: createSsmParameterReader({ clientConfig: loopbackClientConfig(server.endpoint) }),
    });

    // Act
    const state = await loader.load(AbortSignal.timeout(100));

    // Assert
    expect(state).toEqual({
      ok: false,
      reason: 'config_unavailable',
      detail: 'timed out reading configuration',
    });
    expect(server.requests).toHaveLength(1);
  });
});

describe('createSsmParameterReader error reporting', () => {
  const client = new SSMClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
  });
  // Mocks this instance only, and only during these tests: the loopback tests above need the real send.
  let ssmMock = mockClient(client);
  ssmMock.restore();

  beforeEach(() => {
    ssmMock = mockClient(client);
  });

  afterEach(() => {
    ssmMock.restore();
  });

  it('passes the abort signal to send', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: '{}', Version: 1 } });
    const reader = createSsmParameterReader({ client });
    const signal = live();

    // Act
    await reader.read(NAME, signal);

    // Assert
    // send(command, options): the stub's typed tuple only declares the command.
    expect((ssmMock.call(0).args as unknown[])[1]).toMatchObject({ abortSignal: signal });
  });

  it('reports AccessDeniedException by name without its message', async () => {
    // Arrange
    const message = 'User: arn:aws:sts::111122223333:assumed-role/x is not authorized';
    ssmMock
      .on(GetParameterCommand)
      .rejects(new AccessDeniedException({ Message: message, message, $metadata: {} }));
    const reader = createSsmParameterReader({ client });

    // Act
    const result = await reader.read(NAME, live());

    // Assert
    expect(result).toEqual({ ok: false, detail: 'AccessDeniedException' });
  });

  it('reports a network failure by its Node error code', async () => {
    // Arrange
    ssmMock
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }));
    const reader = createSsmParameterReader({ client });

    // Act
    const result = await reader.read(NAME, live());

    // Assert
    expect(result).toEqual({ ok: false, detail: 'ECONNREFUSED' });
  });

  it('reports an abort as AbortError', async () => {
    // Arrange
    ssmMock
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    const reader = createSsmParameterReader({ client });

    // Act
    const result = await reader.read(NAME, AbortSignal.abort());

    // Assert
    expect(result).toEqual({ ok: false, detail: 'AbortError' });
  });

  it('reports a parameter without a value as ParameterValueMissing', async () => {
    // Arrange
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: NAME, Version: 2 } });
    const reader = createSsmParameterReader({ client });

    // Act
    const result = await reader.read(NAME, live());

    // Assert
    expect(result).toEqual({ ok: false, detail: 'ParameterValueMissing' });
  });
});
