import { describe, expect, it } from 'vitest';
import type { AuthorizerContext } from '../../../src/core/lambda/invocation.ts';
import {
  type InvocationBudget,
  normalizeContext,
} from '../../../src/core/lambda/middlewares/normalize-context.ts';

const BUDGET: InvocationBudget = {
  budgetMs: 800,
  minBudgetMs: 50,
  lambdaTimeoutReserveMs: 100,
  coldStartSpentMs: () => undefined,
};

/** Runs the middleware on a request with this raw context, with a clock frozen at 1 000 ms. */
function normalise(
  raw: unknown,
  budget: InvocationBudget = BUDGET,
  middleware = normalizeContext(budget, () => 1_000),
) {
  const request = { event: {}, context: raw, response: undefined, error: undefined, internal: {} };
  middleware.before?.(request as never);
  return { context: request.context as AuthorizerContext, middleware };
}

describe('normalizeContext', () => {
  it('gives the full budget when Lambda has time to spare', () => {
    const { context } = normalise({ awsRequestId: 'r', getRemainingTimeInMillis: () => 3_000 });
    expect(context.invocation.deadline.remainingMs()).toBe(800);
    expect(context.awsRequestId).toBe('r');
  });

  it("keeps the answer clear of Lambda's own timeout", () => {
    const { context } = normalise({ getRemainingTimeInMillis: () => 500 });
    expect(context.invocation.deadline.remainingMs()).toBe(400);
  });

  it('never starts below the minimum budget', () => {
    const { context } = normalise({ getRemainingTimeInMillis: () => 20 });
    expect(context.invocation.deadline.remainingMs()).toBe(50);
  });

  it('takes what init spent off the first invocation only', () => {
    const budget = { ...BUDGET, coldStartSpentMs: () => 300 };
    const middleware = normalizeContext(budget, () => 1_000);
    const first = normalise({}, budget, middleware).context;
    const second = normalise({}, budget, middleware).context;
    expect([first.invocation.coldStart, first.invocation.deadline.remainingMs()]).toEqual([true, 500]);
    expect([second.invocation.coldStart, second.invocation.deadline.remainingMs()]).toEqual([false, 800]);
  });

  it.each([
    ['a number', 3_000],
    ['a function returning NaN', () => Number.NaN],
    [
      'a function that throws',
      () => {
        throw new Error('boom');
      },
    ],
  ])('ignores a getRemainingTimeInMillis that is %s', (_name, getRemainingTimeInMillis) => {
    const { context } = normalise({ getRemainingTimeInMillis });
    expect(context.invocation.deadline.remainingMs()).toBe(800);
    expect(context.getRemainingTimeInMillis).toBeUndefined();
  });

  it('trusts only a string request id', () => {
    const { context } = normalise({ awsRequestId: 42 });
    expect(context.awsRequestId).toBeUndefined();
  });

  it('carries only the normalised fields and the invocation', () => {
    const { context } = normalise({
      functionName: 'ahi-authorizer',
      awsRequestId: 'r',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(Object.keys(context).sort()).toEqual(['awsRequestId', 'getRemainingTimeInMillis', 'invocation']);
  });
});
