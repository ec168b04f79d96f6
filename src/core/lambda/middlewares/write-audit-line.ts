/**
 * Middy `after` middleware: writes the invocation's one audit line (with its EMF metrics) once the
 * handler has decided. Writing is best effort: a failing log writer never changes the answer.
 */

import type { MiddlewareObj } from '@middy/core';
import type { Clock, MonotonicClock } from '../../kernel/clock.ts';
import type { AuthResult } from '../../contract/healthimaging.ts';
import { formatAuditLine, type LineWriter } from '../../observability/audit-line.ts';
import type { AuditSubject } from '../../observability/audit-subject.ts';
import type { AuthorizerContext } from '../invocation.ts';

export interface AuditLineOptions {
  write: LineWriter;
  /** How the subject is logged (src/core/observability/audit-subject.ts). */
  subject: AuditSubject;
  now: Clock;
  monotonicNow: MonotonicClock;
  authorizerVersion: string;
  /** The Lambda function's name: the `function` dimension of the line's metrics. */
  functionName: string;
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
      try {
        options.write(
          formatAuditLine(decision, {
            timestampMs: options.now(),
            coldStart: invocation.coldStart,
            latencyMs: options.monotonicNow() - invocation.startedAt,
            authorizerVersion: options.authorizerVersion,
            functionName: options.functionName,
            requestId: awsRequestId,
            subject: options.subject,
          }),
        );
      } catch {
        // The audit line is best effort; the answer is not.
      }
    },
  };
}
