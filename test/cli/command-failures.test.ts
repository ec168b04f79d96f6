/**
 * Failures that are not usage errors — a file that cannot be read, an empty token — are printed as
 * usage errors are: the problem on one line, one `run: …` line in the CLI's one command form, and
 * exit 2 (docs/cli.md lists unreadable files and configuration problems as exit 2, for every command).
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_COMMAND } from '../../src/tools/cli/command-form.ts';
import { runCli } from '../../src/tools/cli/run-cli.ts';
import { fakeIo } from '../support/fake-io.ts';
import {
  entraConfig,
  makeSeedKeys,
  type SeedFiles,
  writeSeedFiles,
} from '../support/fixtures/seed-tokens.ts';

let files: SeedFiles;
let config: string;
let empty: string;

beforeAll(async () => {
  files = await writeSeedFiles(await makeSeedKeys());
  config = await files.config('config.json', entraConfig());
  empty = await mkdtemp(join(tmpdir(), 'ahi-failures-'));
});

afterAll(async () => {
  await files?.remove();
  if (empty !== undefined) await rm(empty, { recursive: true, force: true });
});

const RELATIVE = ' (a relative path is read from the directory you run the command in)';

describe('a file that cannot be read', () => {
  it.each([
    [
      ['explain', '--config', 'missing.json'],
      'cannot read config missing.json (ENOENT)',
      `explain --help${RELATIVE}`,
    ],
    [
      ['check', '--config', 'missing.json'],
      'cannot read config missing.json (ENOENT)',
      `check --help${RELATIVE}`,
    ],
  ])('%j: the problem, one hint line, exit 2', async (argv, problem, hint) => {
    const io = fakeIo({ stdin: 'a.b.c' });

    const code = await runCli(argv, io);

    expect(code).toBe(2);
    expect(io.out).toBe('');
    expect(io.err).toBe(`ahi-authorizer: ${problem}\nrun: ${CLI_COMMAND} ${hint}\n`);
  });

  it('names an absolute path without the note on relative paths, and a JWKS file as such', async () => {
    const missing = join(empty, 'jwks.json');
    const io = fakeIo({ stdin: 'a.b.c' });

    const code = await runCli(['explain', '--config', config, '--jwks', missing], io);

    expect(code).toBe(2);
    expect(io.err).toBe(
      `ahi-authorizer: cannot read JWKS ${missing} (ENOENT)\nrun: ${CLI_COMMAND} explain --help\n`,
    );
  });

  it('gives a --ca-bundle that cannot be read a hint line too', async () => {
    const missing = join(empty, 'ca.pem');
    const io = fakeIo();

    const code = await runCli(['check', '--config', config, '--ca-bundle', missing], io);

    expect(code).toBe(2);
    expect(io.err).toBe(
      `ahi-authorizer: --ca-bundle ${missing}: cannot be read (ENOENT)\n` +
        `run: ${CLI_COMMAND} check --help (--ca-bundle FILE: PEM CA certificates)\n`,
    );
  });

  it('sandbox: a config that cannot be read is a configuration problem (exit 2), not a failure to start', async () => {
    const missing = join(empty, 'missing.json');
    const io = fakeIo();

    const code = await runCli(['sandbox', '--config', missing, '--port', '0'], io);

    expect(code).toBe(2);
    expect(io.out).toBe('');
    expect(io.err).toBe(
      `ahi-authorizer: cannot read config ${missing} (ENOENT)\nrun: ${CLI_COMMAND} sandbox --help\n`,
    );
  });
});

describe('an empty token', () => {
  it('says so, with the command that passes one on stdin', async () => {
    const io = fakeIo({ stdin: '  \n' });

    const code = await runCli(['explain', '--config', config], io);

    expect(code).toBe(2);
    expect(io.err).toBe(
      'ahi-authorizer: the token is empty\n' +
        `run: echo "$TOKEN" | ${CLI_COMMAND} explain --config ${config} (with TOKEN set to the access token)\n`,
    );
  });
});
