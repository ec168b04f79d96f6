/**
 * Dispatches argv to a command and returns the exit status: a usage error prints two lines to
 * stderr, the problem and the command that shows the relevant help, and exits 2. The commands get
 * everything external through CliIo.
 */

import { runCheckCommand } from './check/check-command.ts';
import type { CliIo } from './shared/cli-io.ts';
import { cliCommand } from './command-form.ts';
import { runExplainCommand } from './explain/explain-command.ts';
import { parseCliArgs } from './parse-cli-args.ts';
import { runSandboxCommand } from '../sandbox/sandbox-command.ts';
import { usage } from './usage.ts';

declare const __AUTHORIZER_VERSION__: string | undefined;
const VERSION = typeof __AUTHORIZER_VERSION__ === 'string' ? __AUTHORIZER_VERSION__ : 'dev';

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCliArgs(argv);
  if (!parsed.ok) {
    const help = parsed.command === undefined ? 'help' : `${parsed.command} --help`;
    io.stderr(`error: ${parsed.message}\nrun: ${cliCommand(help)}\n`);
    return 2;
  }
  const command = parsed.value;
  switch (command.command) {
    case 'help':
      io.stdout(usage(command.topic));
      return 0;
    case 'version':
      io.stdout(`${VERSION}\n`);
      return 0;
    case 'explain':
      return runExplainCommand(command, io);
    case 'check':
      return runCheckCommand(command, io);
    case 'sandbox':
      return runSandboxCommand(command, io);
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}
