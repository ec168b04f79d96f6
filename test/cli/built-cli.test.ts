/**
 * The built CLI (dist/cli.mjs, from `npm run build`) as a real process: shebang, help, exit codes and
 * explain reading stdin, also through the npm script the docs print; and `sandbox --json --port 0`
 * serving a token and a search over HTTP, then exiting on SIGTERM with its handler gone.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_COMMAND } from '../../src/tools/cli/command-form.ts';
import {
  entraAppPayload,
  entraConfig,
  entraToken,
  makeSeedKeys,
  NOW_ISO,
  type SeedFiles,
  type SeedKeys,
  writeSeedFiles,
} from '../support/fixtures/seed-tokens.ts';
import { match } from '../support/matchers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.mjs');

type Run = { code: number | null; out: string; err: string };

function run(args: string[], stdin = ''): Promise<Run> {
  return runCommand(process.execPath, [CLI, ...args], stdin);
}

/** `npm run -s ahi-authorizer -- ARGS`, typed in `cwd`. */
function runScript(args: string[], stdin = '', cwd = ROOT): Promise<Run> {
  const [npm, run, silent, script, dashes] = CLI_COMMAND.split(' ');
  return runCommand(npm!, [run!, silent!, script!, dashes!, ...args], stdin, cwd);
}

function runCommand(command: string, args: string[], stdin: string, cwd = ROOT): Promise<Run> {
  const child = spawn(command, args, {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
  child.stdin.end(stdin);
  return new Promise((done) => child.on('close', (code) => done({ code, out, err })));
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the built ahi-authorizer CLI', () => {
  let keys: SeedKeys;
  let files: SeedFiles;

  beforeAll(async () => {
    keys = await makeSeedKeys();
    files = await writeSeedFiles(keys);
  });

  afterAll(async () => {
    await files?.remove();
  });

  it('is an executable file that starts with its shebang', async () => {
    expect(statSync(CLI).mode & 0o777).toBe(0o755);
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');

    const direct = await runCommand(CLI, ['--version'], '');

    expect(direct).toEqual({ code: 0, out: `${readPackage().version}\n`, err: '' });
  });

  it('prints its usage with help and one problem line and one hint line on a usage error', async () => {
    const help = await run(['help']);
    const wrong = await run(['explain', '--nope']);

    expect(help.code).toBe(0);
    expect(help.out).toContain(`${CLI_COMMAND} explain --config FILE`);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toBe(`error: unknown option --nope for explain\nrun: ${CLI_COMMAND} explain --help\n`);
  });

  it('explains a token read from stdin and exits 1 for the seed client-credentials token', async () => {
    const config = await files.config('config.json', entraConfig());
    const token = await entraToken(keys, entraAppPayload());

    const result = await run(
      ['explain', '--config', config, '--operation', 'StoreDICOM', '--jwks', files.jwks, '--now', NOW_ISO],
      token,
    );

    expect(result.code).toBe(1);
    expect(result.out).toContain('rule pacs-app: claim roles missing; token has idtyp=app and no roles');
    expect(result.out).not.toContain(token);
  });
});

const readPackage = () =>
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    version: string;
    scripts: Record<string, string>;
  };

describe('the npm script the docs print', () => {
  let keys: SeedKeys;
  let files: SeedFiles;

  beforeAll(async () => {
    keys = await makeSeedKeys();
    files = await writeSeedFiles(keys);
  });

  afterAll(async () => {
    await files?.remove();
  });

  it("is package.json's ahi-authorizer script, running dist/cli.mjs", () => {
    expect(CLI_COMMAND).toBe('npm run -s ahi-authorizer --');
    expect(readPackage().scripts['ahi-authorizer']).toBe('node dist/cli.mjs');
  });

  it('prints only what the CLI prints, and passes flags after -- and the exit code through', async () => {
    const version = await runScript(['--version']);
    const help = await runScript(['explain', '--help']);
    const wrong = await runScript(['explain', '--confg', 'x']);

    expect(version).toEqual({ code: 0, out: `${readPackage().version}\n`, err: '' });
    expect(help.code).toBe(0);
    expect(help.out.startsWith('ahi-authorizer: ')).toBe(true);
    expect(help.out).toContain('--jwks FILE');
    expect(wrong).toEqual({
      code: 2,
      out: '',
      err: `error: unknown option --confg for explain (did you mean --config?)\nrun: ${CLI_COMMAND} explain --help\n`,
    });
  });

  it('explains a token piped to it and exits 1 for the seed client-credentials token', async () => {
    const config = await files.config('config.json', entraConfig());
    const token = await entraToken(keys, entraAppPayload());

    const result = await runScript(
      ['explain', '--config', config, '--operation', 'StoreDICOM', '--jwks', files.jwks, '--now', NOW_ISO],
      token,
    );

    expect(result.code).toBe(1);
    expect(result.out).toContain('rule pacs-app: claim roles missing; token has idtyp=app and no roles');
    expect(result.out).not.toContain(token);
  });

  it('reads relative paths from the directory it is typed in, not the package root', async () => {
    const result = await runScript(
      ['explain', '--config', 'config.json', '--json'],
      'a.b.c',
      join(ROOT, 'sandbox'),
    );

    expect(result.err).toBe('');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.out)).toMatchObject({ config: { file: 'config.json' } });
  });
});

describe('ahi-authorizer sandbox as a process', () => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('prints one JSON line, serves tokens and DICOMweb, and exits cleanly on SIGTERM', async () => {
    child = spawn(process.execPath, [CLI, 'sandbox', '--json', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: child.stdout! });
    const [first] = (await once(lines, 'line')) as [string];
    const info = JSON.parse(first) as {
      issuer: string;
      dicomweb: string;
      datastoreId: string;
      tokenEndpoint: string;
      clients: { clientId: string; clientSecret: string; scope: string }[];
    };
    expect(info).toMatchObject({
      issuer: match.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      dicomweb: match.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/datastore\/[0-9a-z]{32}$/),
      datastoreId: match.stringMatching(/^[0-9a-z]{32}$/),
    });
    expect(info.dicomweb.endsWith(`/datastore/${info.datastoreId}`)).toBe(true);
    const reader = info.clients.find((client) => client.clientId === 'dicom-reader');
    expect(reader).toEqual({
      clientId: 'dicom-reader',
      clientSecret: match.any(String),
      scope: 'dicom.read',
    });

    const tokenResponse = await fetch(`${info.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${reader!.clientId}:${reader!.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: reader!.scope }),
    });
    const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
    const search = await fetch(`${info.dicomweb}/studies`, { headers: { authorization: `Bearer ${token}` } });
    expect(search.status).toBe(200);
    expect(search.headers.get('x-authorizer-role')).toBe(
      'arn:aws:iam::111122223333:role/SandboxDicomReadOnly',
    );
    const [logLine] = (await once(lines, 'line')) as [string];
    expect(JSON.parse(logLine)).toMatchObject({
      request: { operation: 'SearchDICOMStudies', status: 200, reason: 'allowed' },
    });

    const handlers = childrenOf(child.pid!);
    expect(handlers.length).toBeGreaterThan(0);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];

    expect(code).toBe(0);
    expect(handlers.filter(isRunning)).toEqual([]);
    await expect(fetch(`${info.dicomweb}/studies`)).rejects.toThrow();
  });
});
