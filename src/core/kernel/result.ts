/**
 * The one result shape every stage answers with: `ok: true` beside the value's own fields, or
 * `ok: false` beside the failure's. Expected failures are values, never exceptions, so a stage's
 * signature says everything it can answer. The fields stay flat (no `value` wrapper): narrowing on
 * `ok` reads the same at every stage boundary, and a hot path allocates nothing extra.
 */

/** Success: `ok: true` and the value's fields. */
export type Ok<T extends object> = { ok: true } & T;

/** Failure: `ok: false` and the failure's fields. */
export type Err<E extends object> = { ok: false } & E;

export type Result<T extends object, E extends object> = Ok<T> | Err<E>;

/** The usual failure: a code from a closed set (a reason code, a fetch cause) and fixed text for the log. */
export interface Refusal<R extends string> {
  reason: R;
  /** Fixed text, config names or sanitised facts: never token bytes or a response body. */
  detail: string;
}

/** A refusal as a failed result. */
export function refuse<R extends string>(reason: R, detail: string): Err<Refusal<R>> {
  return { ok: false, reason, detail };
}
