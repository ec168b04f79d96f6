/**
 * The `ahi-authorizer` entry point (built to dist/cli.mjs) and the CLI's composition root: wires
 * the real process (argv, working directory, streams, stdin, environment, signals) to runCli and sets
 * the exit code.
 */

import { processIo } from './shared/cli-io.ts';
import { runCli } from './run-cli.ts';

// `npm run -s ahi-authorizer -- …` and `npm start` run in the package root; INIT_CWD is where the
// command was typed, so relative paths (--config my-config.json) are read from there.
const initCwd = process.env['INIT_CWD'];
if (initCwd && ['ahi-authorizer', 'start'].includes(process.env['npm_lifecycle_event'] ?? '')) {
  try {
    process.chdir(initCwd);
  } catch {
    // A directory that is gone: stay in the package root.
  }
}

const code = await runCli(process.argv.slice(2), processIo());
process.exitCode = code;
// Nothing should be left running; if something is, do not hang the shell (the unref'd timer
// itself never keeps the process alive).
setTimeout(() => process.exit(code), 5_000).unref();
