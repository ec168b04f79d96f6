/**
 * Middy `before` middleware: turns whatever context arrived into one the handler can trust and
 * starts this invocation's deadline. The real Lambda runtime always passes a proper context;
 * anything else (tests, emulators, a broken wrapper) must not make the deadline throw, so only a
 * string request id and a finite remaining time are trusted.
 */

import type { MiddlewareObj } from '@middy/core';
import type { AuthResult } from '../../contract/healthimaging.ts';
import type { MonotonicClock } from '../../kernel/clock.ts';
import { createDeadline } from '../../kernel/deadline.ts';
import type { AuthorizerContext, Invocation } from '../invocation.ts';

export interface InvocationBudget {
  /** The internal deadline per invocation. */
  budgetMs: number;
  /** Below this there is no point starting: answer with what the caches already hold. */
  minBudgetMs: number;
  /** Taken off the context's remaining time, so the answer lands before Lambda's own timeout. */
  lambdaTimeoutReserveMs: number;
  /** On an on-demand cold start, init already spent part of HealthImaging's second. */
  coldStartSpentMs: () => number | undefined;
}

export function normalizeContext(
  budget: InvocationBudget,
  clock: MonotonicClock,
): MiddlewareObj<unknown, AuthResult, Error, AuthorizerContext> {
  let coldStart = true;
  return {
    name: 'normalize-context',
    before: (request) => {
      const startedAt = clock();
      const isColdStart = coldStart;
      coldStart = false;
      const raw: unknown = request.context;
      const base: object = typeof raw === 'object' && raw !== null ? raw : {};
      const { awsRequestId, remainingMs } = trustedFields(base, clock);
      let budgetMs = budget.budgetMs;
      if (remainingMs !== undefined)
        budgetMs = Math.min(budgetMs, remainingMs() - budget.lambdaTimeoutReserveMs);
      const spent = isColdStart ? budget.coldStartSpentMs() : undefined;
      if (spent !== undefined) budgetMs = Math.min(budgetMs, budget.budgetMs - spent);
      const invocation: Invocation = {
        deadline: createDeadline(Math.max(budgetMs, budget.minBudgetMs), clock),
        coldStart: isColdStart,
        startedAt,
      };
      // Only the normalised fields: the runtime's other context fields are never read.
      request.context = { awsRequestId, getRemainingTimeInMillis: remainingMs, invocation };
    },
  };
}

/**
 * Reading a member that throws (a broken wrapper) is an escape, answered by the fail-closed layer;
 * a getRemainingTimeInMillis that throws or returns a non-number only loses the remaining time.
 */
function trustedFields(
  raw: object,
  clock: MonotonicClock,
): { awsRequestId: string | undefined; remainingMs: (() => number) | undefined } {
  const context = raw as Partial<Record<'awsRequestId' | 'getRemainingTimeInMillis', unknown>>;
  const awsRequestId = typeof context.awsRequestId === 'string' ? context.awsRequestId : undefined;
  const getRemaining = context.getRemainingTimeInMillis;
  let remaining: unknown;
  try {
    if (typeof getRemaining === 'function') remaining = getRemaining.call(raw);
  } catch {
    remaining = undefined;
  }
  if (typeof remaining !== 'number' || !Number.isFinite(remaining))
    return { awsRequestId, remainingMs: undefined };
  const readAt = clock();
  return { awsRequestId, remainingMs: () => remaining - (clock() - readAt) };
}
