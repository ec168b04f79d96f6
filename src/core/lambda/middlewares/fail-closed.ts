/**
 * Middy `onError` middleware, the last error layer: whatever escaped (a bug, a broken context, a
 * failing middleware) becomes a logged `internal_error` deny, never a rethrow, which HealthImaging
 * would turn into a 424. The error itself is never logged: it may hold token data.
 */

import type { MiddlewareObj } from '@middy/core';
import { type AuthResult, DENY_INVALID } from '../../contract/healthimaging.ts';
import type { AuthorizerContext } from '../invocation.ts';
import { type AuditLineOptions, writeDecisionLine } from './write-audit-line.ts';

/**
 * Writes the internal_error audit line (best effort; its EMF metrics show an escape in the reason
 * metrics) and returns the deny. Never throws.
 */
export function failClosedAnswer(options: AuditLineOptions, context?: unknown): AuthResult {
  try {
    // The invocation may be missing (an error before it was set up); read nothing else then.
    const invocation = (context as Partial<AuthorizerContext> | undefined)?.invocation;
    const requestId = invocation === undefined ? undefined : (context as AuthorizerContext).awsRequestId;
    writeDecisionLine(options, { reason: 'internal_error', steps: [] }, invocation, requestId);
  } catch {
    // Nothing left to report with.
  }
  return { ...DENY_INVALID };
}

export function failClosed(
  options: AuditLineOptions,
): MiddlewareObj<unknown, AuthResult, Error, AuthorizerContext> {
  return {
    name: 'fail-closed',
    onError: (request) => failClosedAnswer(options, request.context),
  };
}
