/**
 * The `ahi-authorizer` entry point (built to dist/cli.mjs) and the CLI's composition root: wires
 * the real process (argv, streams, stdin, environment, signals) to runCli and sets the exit code.
 */

import { processIo } from './cli-io.ts';
import { runCli } from './run-cli.ts';

const code = await runCli(process.argv.slice(2), processIo());
process.exitCode = code;
// Nothing should be left running; if something is, do not hang the shell (the unref'd timer
// itself never keeps the process alive).
setTimeout(() => process.exit(code), 5_000).unref();
