/**
 * A failure that is not a usage error — a file that cannot be read or used, an empty token — is
 * printed in a usage error's shape (run-cli.ts) but prefixed `ahi-authorizer:`, not `error:`: the
 * problem, then one `run: …` line with the command to try (command-form.ts). Exit 2 either way.
 */

import { isAbsolute } from 'node:path';
import type { CliIo } from './cli-io.ts';
import { cliCommand } from '../command-form.ts';
import type { CommandName } from '../parse-cli-args.ts';

export function printFailure(io: CliIo, problem: string, hint: string): void {
  io.stderr(`ahi-authorizer: ${problem}\nrun: ${hint}\n`);
}

/** The code of a failed read (ENOENT, EACCES, EISDIR …), when it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * `cannot read config x.json (ENOENT)`, with the command's help as the hint; a relative path that
 * does not exist is also said to be read from where the command runs.
 */
export function printReadFailure(
  io: CliIo,
  command: CommandName,
  what: string,
  path: string,
  error: unknown,
): void {
  const code = errorCode(error);
  const where =
    code === 'ENOENT' && !isAbsolute(path)
      ? ` (a relative path is read from the directory you run the command in)`
      : '';
  printFailure(
    io,
    `cannot read ${what} ${path}${code === undefined ? '' : ` (${code})`}`,
    `${cliCommand(`${command} --help`)}${where}`,
  );
}

/** A file's text, or `{ ok: false }` once printReadFailure has said why it cannot be read. */
export async function readText(
  io: CliIo,
  command: CommandName,
  what: string,
  path: string,
): Promise<{ ok: true; text: string } | { ok: false }> {
  try {
    return { ok: true, text: await io.readFile(path) };
  } catch (error) {
    printReadFailure(io, command, what, path, error);
    return { ok: false };
  }
}
