/**
 * The per-invocation state the middlewares and the handler share, carried on the Lambda context the
 * way middy middlewares pass values to a handler: the deadline, whether this is the instance's
 * first invocation, when it started, and (once decided) the Decision for the audit line.
 */

import type { Context } from 'aws-lambda';
import type { Decision } from '../decision/decision.ts';
import type { Deadline } from '../keys/deadline.ts';

export interface Invocation {
  readonly deadline: Deadline;
  readonly coldStart: boolean;
  /** Monotonic milliseconds when the invocation started (for the latency in the audit line). */
  readonly startedAt: number;
  /** Set by the handler; the audit line records it. */
  decision?: Decision;
}

/**
 * Lambda's context after normalisation: only `awsRequestId` and `getRemainingTimeInMillis` are
 * read, each trusted only when well formed; the rest of the runtime's context is left as it was.
 */
export interface AuthorizerContext extends Context {
  readonly invocation: Invocation;
}
