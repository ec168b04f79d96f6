/**
 * Reads the configuration parameter from SSM with the AWS SDK v3, imported lazily so inline or file
 * configurations never load it. Short timeouts and two attempts keep a slow SSM from eating
 * HealthImaging's 1-second budget. Failures carry only the SDK error name: messages can echo request
 * data.
 */

import type { SSMClient, SSMClientConfig } from '@aws-sdk/client-ssm';
import type { Result } from '../kernel/result.ts';
import { contentVersion } from './content-version.ts';

export type SsmReadResult = Result<{ value: string; version: string }, { detail: string }>;

export interface SsmParameterReader {
  /** Never rejects; `signal` aborts the request. */
  read(name: string, signal: AbortSignal): Promise<SsmReadResult>;
}

export interface SsmParameterReaderOptions {
  /** A ready client (tests pass a real SSMClient under aws-sdk-client-mock). */
  client?: SSMClient;
  /** Merged over the short-timeout defaults, e.g. endpoint/region/credentials for a loopback fake. */
  clientConfig?: SSMClientConfig;
}

/**
 * Within a region SSM answers in tens of ms; two short attempts beat one long one.
 * `throwOnRequestTimeout` is what makes `requestTimeout` a limit: without it @smithy/node-http-handler
 * 4.x only logs a warning and the request hangs until the caller's signal (measured in the tests).
 */
export const SSM_CLIENT_DEFAULTS = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 200, requestTimeout: 400, throwOnRequestTimeout: true },
} as const satisfies SSMClientConfig;

type SsmModule = typeof import('@aws-sdk/client-ssm');

export function createSsmParameterReader(options: SsmParameterReaderOptions = {}): SsmParameterReader {
  let ready: Promise<{ sdk: SsmModule; client: SSMClient }> | undefined;

  const load = () => {
    if (ready === undefined) {
      const loading = import('@aws-sdk/client-ssm').then((sdk) => ({
        sdk,
        client: options.client ?? new sdk.SSMClient({ ...SSM_CLIENT_DEFAULTS, ...options.clientConfig }),
      }));
      // A failed import or client construction is not cached: the next read tries again.
      loading.catch(() => {
        ready = undefined;
      });
      ready = loading;
    }
    return ready;
  };

  return {
    async read(name, signal) {
      try {
        const { sdk, client } = await load();
        const output = await client.send(new sdk.GetParameterCommand({ Name: name, WithDecryption: true }), {
          abortSignal: signal,
        });
        const value = output.Parameter?.Value;
        if (typeof value !== 'string') return { ok: false, detail: 'ParameterValueMissing' };
        const version = output.Parameter?.Version;
        // SSM always returns Version; the hash only keeps the label meaningful if a fake omits it.
        return {
          ok: true,
          value,
          version: typeof version === 'number' ? `ssm:${version}` : contentVersion(value),
        };
      } catch (error) {
        return { ok: false, detail: errorName(error) };
      }
    },
  };
}

const SAFE_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

/** The SDK error name (ThrottlingException, ParameterNotFound, AbortError, TimeoutError...), never the message. */
function errorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'UnknownError';
  const { name, code } = error as { name?: unknown; code?: unknown };
  // Network failures surface as a plain Error with a Node code (ECONNREFUSED): the code says more.
  if ((name === 'Error' || name === undefined) && typeof code === 'string' && SAFE_NAME.test(code))
    return code;
  return typeof name === 'string' && SAFE_NAME.test(name) ? name : 'UnknownError';
}
