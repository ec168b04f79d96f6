/**
 * The per-invocation state the middlewares and the handler share, carried on the Lambda context the
 * way middy middlewares pass values to a handler: the deadline, whether this is the instance's
 * first invocation, when it started, and (once decided) the Decision for the audit line.
 */

import type { Context } from 'aws-lambda';
import type { Decision } from '../decision/decision.ts';
import type { Deadline } from '../kernel/deadline.ts';

export interface Invocation {
  readonly deadline: Deadline;
  readonly coldStart: boolean;
  /** Monotonic milliseconds when the invocation started (for the latency in the audit line). */
  readonly startedAt: number;
  /** Set by the handler; the audit line records it. */
  decision?: Decision;
}

/**
 * Lambda's context (aws-lambda's Context) after normalisation: only the two members the authorizer
 * reads, each undefined unless well formed, and this invocation's state. Nothing else of the
 * runtime's context is read, so nothing else is carried.
 */
export interface AuthorizerContext {
  readonly awsRequestId: Context['awsRequestId'] | undefined;
  readonly getRemainingTimeInMillis: Context['getRemainingTimeInMillis'] | undefined;
  readonly invocation: Invocation;
}
