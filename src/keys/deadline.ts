/**
 * The per-invocation deadline as a value (STYLE.md convention 5). Built once from the budget and the
 * Lambda context's remaining time; every network call gets a signal from it, so running out becomes
 * `deadline_exceeded` or `idp_unavailable`, never a HealthImaging 408.
 */

import { type MonotonicClock, monotonicClock } from '../clock.ts';

export interface Deadline {
  /** Aborts when the budget runs out. */
  readonly signal: AbortSignal;
  /** Milliseconds left (never negative). */
  remainingMs(): number;
  expired(): boolean;
  /**
   * A signal for a sub-operation that must leave `reserveMs` to answer; also capped at `capMs`.
   * Already aborted when nothing is left after the reserve.
   */
  child(reserveMs: number, capMs?: number): AbortSignal;
}

export function createDeadline(budgetMs: number, clock: MonotonicClock = monotonicClock): Deadline {
  const budget = Math.max(0, Math.floor(budgetMs));
  const endsAt = clock() + budget;
  const signal = AbortSignal.timeout(budget);
  const remainingMs = () => Math.max(0, endsAt - clock());
  return {
    signal,
    remainingMs,
    expired: () => signal.aborted || remainingMs() <= 0,
    child(reserveMs, capMs = Number.POSITIVE_INFINITY) {
      const ms = Math.floor(Math.min(remainingMs() - reserveMs, capMs));
      if (ms <= 0) return AbortSignal.abort(new DOMException('deadline reserve reached', 'TimeoutError'));
      return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
    },
  };
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
        reject(error);
      },
    );
  });
}
