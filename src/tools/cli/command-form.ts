/**
 * The one form this CLI is run in and prints (usage, hints, sandbox banner): the package script
 * `ahi-authorizer` (package.json), from a clone. `npm run` runs only the enclosing package's
 * scripts, never a registry package of that name. docs/cli.md documents it;
 * test/docs/printed-commands.test.ts runs what the docs print.
 */

/** `-s` keeps npm's own header off stdout; `--` hands every flag to the CLI. */
export const CLI_COMMAND = 'npm run -s ahi-authorizer --';

/** The full command line for a CLI invocation, e.g. `npm run -s ahi-authorizer -- explain --help`. */
export const cliCommand = (args: string): string => `${CLI_COMMAND} ${args}`;
