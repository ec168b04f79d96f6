/**
 * The per-invocation deadline as a value, passed down rather than read from a global. Built once
 * from the budget and the Lambda context's remaining time. Fetches and SSM reads run to their own
 * limits; the deadline bounds only how long a caller waits for them, so running out becomes
 * `deadline_exceeded` or `idp_unavailable`, never a HealthImaging 408.
 */

import { type MonotonicClock, monotonicClock } from './clock.ts';

export interface Deadline {
  /**
   * Settles with `onTimeout()` if `promise` has not settled when the budget runs out (a plain timer);
   * a rejection settles with `onError(error)` when given, else rejects.
   */
  race<T>(promise: Promise<T>, onTimeout: () => T, onError?: (error: unknown) => T): Promise<T>;
  /** Milliseconds left (never negative). */
  remainingMs(): number;
  /**
   * A signal for a sub-operation that must leave `reserveMs` to answer. Already aborted when nothing
   * is left after the reserve.
   */
  child(reserveMs: number): AbortSignal;
}

export function createDeadline(budgetMs: number, clock: MonotonicClock = monotonicClock): Deadline {
  return new BudgetDeadline(clock() + Math.max(0, Math.floor(budgetMs)), clock);
}

/**
 * A class, not a closure per invocation: the methods live on the prototype. AbortSignal.timeout
 * allocates a timer per call, so signals are made only by child(), when something actually waits on
 * I/O; the overall race is a plain timer.
 */
class BudgetDeadline implements Deadline {
  constructor(
    private readonly endsAt: number,
    private readonly clock: MonotonicClock,
  ) {}

  remainingMs(): number {
    return Math.max(0, this.endsAt - this.clock());
  }

  race<T>(promise: Promise<T>, onTimeout: () => T, onError?: (error: unknown) => T): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(onTimeout()), Math.ceil(this.remainingMs()));
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes the promise's own rejection on unchanged
          if (onError === undefined) reject(error);
          else resolve(onError(error));
        },
      );
    });
  }

  child(reserveMs: number): AbortSignal {
    const ms = Math.floor(this.remainingMs() - reserveMs);
    if (ms <= 0) return AbortSignal.abort(new DOMException('deadline reserve reached', 'TimeoutError'));
    return AbortSignal.timeout(ms);
  }
}

/** Resolves with `onTimeout()` if `promise` has not settled when `signal` aborts. Never rejects for the abort. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, onTimeout: () => T): Promise<T> {
  if (signal.aborted) return Promise.resolve(onTimeout());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => resolve(onTimeout());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes the promise's own rejection on unchanged
        reject(error);
      },
    );
  });
}
