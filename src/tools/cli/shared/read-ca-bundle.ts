/**
 * The CA bundle of `check` and `explain`: `--ca-bundle FILE`, else AUTHORIZER_CA_BUNDLE_FILE (as the
 * function reads it), parsed by the function's own parser (src/core/keys/ca-bundle.ts). An unreadable or
 * invalid file is a usage error naming where the path came from, never the file's content.
 */

import { type CaBundle, parseCaBundle } from '../../../core/keys/ca-bundle.ts';
import type { CliIo } from './cli-io.ts';

export interface CliCaBundle {
  file: string;
  bundle: CaBundle;
}

export type ReadCliCaBundle = { ok: true; caBundle?: CliCaBundle } | { ok: false };

export const CA_BUNDLE_ENV = 'AUTHORIZER_CA_BUNDLE_FILE';

export async function readCliCaBundle(io: CliIo, option: string | undefined): Promise<ReadCliCaBundle> {
  const fromEnv = io.env[CA_BUNDLE_ENV];
  const file = option ?? (fromEnv === '' ? undefined : fromEnv);
  if (file === undefined) return { ok: true };
  const source = option === undefined ? CA_BUNDLE_ENV : '--ca-bundle';
  let text: string;
  try {
    text = await io.readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    io.stderr(
      `ahi-authorizer: ${source} ${file}: cannot be read${typeof code === 'string' ? ` (${code})` : ''}\n`,
    );
    return { ok: false };
  }
  const parsed = parseCaBundle(text);
  if (!parsed.ok) {
    io.stderr(`ahi-authorizer: ${source} ${file}: ${parsed.problem}\n`);
    return { ok: false };
  }
  return { ok: true, caBundle: { file, bundle: parsed.bundle } };
}
