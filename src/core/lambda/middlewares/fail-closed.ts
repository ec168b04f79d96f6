/**
 * Middy `onError` middleware, the last error layer: whatever escaped (a bug, a broken context, a
 * failing middleware) becomes a logged `internal_error` deny, never a rethrow, which HealthImaging
 * would turn into a 424. The error itself is never logged: it may hold token data.
 */

import type { MiddlewareObj } from '@middy/core';
import type { Clock, MonotonicClock } from '../../kernel/clock.ts';
import { type AuthResult, DENY_INVALID } from '../../contract/healthimaging.ts';
import { formatAuditLine, type LineWriter } from '../../observability/audit-line.ts';
import type { AuthorizerContext } from '../invocation.ts';

export interface FailClosedOptions {
  write: LineWriter;
  now: Clock;
  monotonicNow: MonotonicClock;
  authorizerVersion: string;
  /** The Lambda function's name: the `function` dimension of the line's metrics. */
  functionName: string;
}

/**
 * Writes the internal_error audit line (best effort; its EMF metrics show an escape in the reason
 * metrics) and returns the deny. Never throws.
 */
export function failClosedAnswer(options: FailClosedOptions, context?: unknown): AuthResult {
  try {
    // The invocation may be missing (an error before it was set up); read nothing else then.
    const invocation = (context as Partial<AuthorizerContext> | undefined)?.invocation;
    const requestId = invocation === undefined ? undefined : (context as AuthorizerContext).awsRequestId;
    options.write(
      formatAuditLine(
        { reason: 'internal_error', steps: [] },
        {
          timestampMs: options.now(),
          coldStart: invocation?.coldStart ?? false,
          latencyMs: invocation === undefined ? 0 : options.monotonicNow() - invocation.startedAt,
          authorizerVersion: options.authorizerVersion,
          functionName: options.functionName,
          requestId,
        },
      ),
    );
  } catch {
    // Nothing left to report with.
  }
  return { ...DENY_INVALID };
}

export function failClosed(
  options: FailClosedOptions,
): MiddlewareObj<unknown, AuthResult, Error, AuthorizerContext> {
  return {
    name: 'fail-closed',
    onError: (request) => failClosedAnswer(options, request.context),
  };
}
