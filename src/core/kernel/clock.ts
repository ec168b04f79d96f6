/**
 * The one place in src/ that reads the system clock, so tests can freeze time. Token time checks
 * use an injected `Clock`; deadlines and cache ages use the monotonic clock, which wall-clock jumps
 * cannot move.
 */

/** Wall-clock time in epoch milliseconds; injected so tests and `explain --now` can freeze it. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** Monotonic milliseconds (for deadlines, cache ages, latency); never compared with token times. */
export type MonotonicClock = () => number;

/**
 * process.hrtime, not performance.now(): the first touch of the global `performance` loads
 * node:perf_hooks, which every cold start would pay for; the array form is cheaper than the bigint
 * one.
 */
export const monotonicClock: MonotonicClock = () => {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
};
