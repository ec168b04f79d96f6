/**
 * The CA bundle of `check` and `explain`: `--ca-bundle FILE`, else AUTHORIZER_CA_BUNDLE_FILE (as the
 * function reads it), parsed by the function's own parser (src/core/keys/ca-bundle.ts). An unreadable or
 * invalid file is a usage error naming where the path came from, never the file's content.
 */

import { type CaBundle, parseCaBundle } from '../../../core/keys/ca-bundle.ts';
import { SETTING_NAMES } from '../../../core/lambda/runtime-settings.ts';
import type { CliIo } from './cli-io.ts';
import { cliCommand } from '../command-form.ts';
import type { CommandName } from '../parse-cli-args.ts';
import { errorCode, printFailure } from './print-failure.ts';

export interface CliCaBundle {
  file: string;
  bundle: CaBundle;
}

export type ReadCliCaBundle = { ok: true; caBundle?: CliCaBundle } | { ok: false };

export async function readCliCaBundle(
  io: CliIo,
  option: string | undefined,
  command: CommandName,
): Promise<ReadCliCaBundle> {
  const fromEnv = io.env[SETTING_NAMES.caBundleFile];
  const file = option ?? (fromEnv === '' ? undefined : fromEnv);
  if (file === undefined) return { ok: true };
  const source = option === undefined ? SETTING_NAMES.caBundleFile : '--ca-bundle';
  const help = `${cliCommand(`${command} --help`)} (--ca-bundle FILE: PEM CA certificates)`;
  let text: string;
  try {
    text = await io.readFile(file);
  } catch (error) {
    const code = errorCode(error);
    printFailure(io, `${source} ${file}: cannot be read${code === undefined ? '' : ` (${code})`}`, help);
    return { ok: false };
  }
  const parsed = parseCaBundle(text);
  if (!parsed.ok) {
    printFailure(io, `${source} ${file}: ${parsed.problem}`, help);
    return { ok: false };
  }
  return { ok: true, caBundle: { file, bundle: parsed.bundle } };
}
