/**
 * authorize() wired for the security suite with real parts only: a validated configuration, the real
 * key store over an in-memory JWKS endpoint, and a frozen clock. Also renders the audit line a decision
 * would produce in Lambda, so direct callers of authorize() run the bundle tests' log-hygiene checks.
 */

import { type AuthorizeDeps, authorize } from '../../src/core/authorize.ts';
import type { ConfigState } from '../../src/core/config/config-loader.ts';
import { type AuthorizerConfigInput, parseConfig } from '../../src/core/config/schema.ts';
import type { Decision } from '../../src/core/decision/decision.ts';
import { createDeadline } from '../../src/core/kernel/deadline.ts';
import { createKeyStore, type KeyStoreOptions } from '../../src/core/keys/key-store.ts';
import { formatAuditLine, LOCAL_FUNCTION_NAME } from '../../src/core/observability/audit-line.ts';

export const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

export function loadedConfig(input: AuthorizerConfigInput): ConfigState {
  const parsed = parseConfig(input);
  if (!parsed.ok) throw new Error(`test config invalid: ${JSON.stringify(parsed.issues)}`);
  return { ok: true, loaded: { config: parsed.config, version: 'security-suite', source: 'inline' } };
}

/** A fetch that serves `jwks()` as JSON for any URL and counts its calls. */
export function jwksEndpoint(jwks: () => unknown): { fetch: typeof globalThis.fetch; calls: () => number } {
  let calls = 0;
  return {
    fetch: () => {
      calls += 1;
      return Promise.resolve(
        new Response(JSON.stringify(jwks()), { headers: { 'content-type': 'application/json' } }),
      );
    },
    calls: () => calls,
  };
}

export interface PipelineOptions {
  config: AuthorizerConfigInput;
  jwks: () => unknown;
  nowMs: number;
  keyStore?: Omit<KeyStoreOptions, 'fetch'>;
}

export function pipelineDeps(options: PipelineOptions): AuthorizeDeps & { fetchCalls(): number } {
  const state = loadedConfig(options.config);
  const endpoint = jwksEndpoint(options.jwks);
  return {
    config: { load: () => Promise.resolve(state) },
    keys: createKeyStore({ ...options.keyStore, fetch: endpoint.fetch }),
    now: () => options.nowMs,
    fetchCalls: endpoint.calls,
  };
}

/** One decision through the whole pipeline, with a generous deadline (the crypto is the only cost). */
export async function decide(
  deps: AuthorizeDeps,
  bearerToken: unknown,
  operation = 'GetDICOMInstance',
): Promise<Decision> {
  const { decision } = await authorize(
    { datastoreId: DS, operation, bearerToken },
    deps,
    createDeadline(10_000),
  );
  return decision;
}

/** The audit line the Lambda handler would write for this decision. */
export function auditLine(decision: Decision, timestampMs: number): string {
  return formatAuditLine(decision, {
    timestampMs,
    requestId: 'security-suite',
    coldStart: false,
    latencyMs: 0,
    authorizerVersion: 'test',
    functionName: LOCAL_FUNCTION_NAME,
  });
}
