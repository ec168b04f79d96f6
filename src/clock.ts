/**
 * The one place in src/ that reads the system clock (STYLE.md convention 4). Token time checks use
 * an injected `Clock`; deadlines and cache ages use the monotonic clock, which wall-clock jumps
 * cannot move.
 */

/** Wall-clock time in epoch milliseconds; injected so tests and `explain --now` can freeze it. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** Monotonic milliseconds (for deadlines, cache ages, latency); never compared with token times. */
export type MonotonicClock = () => number;

export const monotonicClock: MonotonicClock = () => performance.now();
