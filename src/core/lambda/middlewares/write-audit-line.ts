/**
 * Middy `after` middleware: writes the invocation's one audit line (with its EMF metrics) once the
 * handler has decided. Writing is best effort: a failing log writer never changes the answer. The
 * fail-closed layer writes its line through the same helper.
 */

import type { MiddlewareObj } from '@middy/core';
import type { Clock, MonotonicClock } from '../../kernel/clock.ts';
import type { AuthResult } from '../../contract/healthimaging.ts';
import type { Decision } from '../../decision/decision.ts';
import { formatAuditLine, type LineWriter } from '../../observability/audit-line.ts';
import type { AuditSubject } from '../../observability/audit-subject.ts';
import type { AuthorizerContext, Invocation } from '../invocation.ts';

export interface AuditLineOptions {
  write: LineWriter;
  /**
   * How the subject is logged (src/core/observability/audit-subject.ts). Only a decision with
   * verified claims names a subject, so a fail-closed line never does.
   */
  subject: AuditSubject;
  now: Clock;
  monotonicNow: MonotonicClock;
  authorizerVersion: string;
  /** The Lambda function's name: the `function` dimension of the line's metrics. */
  functionName: string;
}

/**
 * Writes `decision`'s audit line, best effort: never throws. Without an invocation (an error before
 * it was set up) the line says not a cold start and a latency of 0.
 */
export function writeDecisionLine(
  options: AuditLineOptions,
  decision: Decision,
  invocation: Pick<Invocation, 'coldStart' | 'startedAt'> | undefined,
  requestId: string | undefined,
): void {
  try {
    options.write(
      formatAuditLine(decision, {
        timestampMs: options.now(),
        coldStart: invocation?.coldStart ?? false,
        latencyMs: invocation === undefined ? 0 : options.monotonicNow() - invocation.startedAt,
        authorizerVersion: options.authorizerVersion,
        functionName: options.functionName,
        requestId,
        subject: options.subject,
      }),
    );
  } catch {
    // The audit line is best effort; the answer is not.
  }
}

export function writeAuditLine(
  options: AuditLineOptions,
): MiddlewareObj<unknown, AuthResult, Error, AuthorizerContext> {
  return {
    name: 'write-audit-line',
    after: (request) => {
      const { invocation, awsRequestId } = request.context;
      const decision = invocation.decision;
      if (decision === undefined) throw new Error('the handler returned without a decision');
      writeDecisionLine(options, decision, invocation, awsRequestId);
    },
  };
}
