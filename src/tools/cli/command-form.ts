/**
 * The one way this CLI is run, and so the one form it prints in its usage, hints and the sandbox
 * banner: the package script `ahi-authorizer` (package.json), from a clone of the repository.
 * `npm run` only ever runs a script of the package it is in, so the form can never resolve to a
 * registry package of that name (as `npx ahi-authorizer` would outside a clone), and it runs the
 * project's own Node.js; `-s` keeps npm's own header off stdout, `--` hands every flag to the CLI.
 * docs/cli.md documents it; test/docs/printed-commands.test.ts runs what the docs print.
 */
export const CLI_COMMAND = 'npm run -s ahi-authorizer --';

/** The full command line for a CLI invocation, e.g. `npm run -s ahi-authorizer -- explain --help`. */
export const cliCommand = (args: string): string => `${CLI_COMMAND} ${args}`;
