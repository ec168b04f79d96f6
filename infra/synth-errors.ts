/**
 * What `cdk synth` reports to the user: the errors infra/app.ts prints as one message (no stack
 * trace), and the layout of their problem lists, one problem a line, indented under what is invalid.
 */

/** A mistake in what the user gave (settings, props, files): its message says what to change. */
export class SynthError extends Error {}

/** The problems one a line, each indented by two spaces (a problem's own line breaks are kept as they are). */
export const indented = (problems: readonly string[]): string =>
  problems.map((problem) => `  ${problem}`).join('\n');
