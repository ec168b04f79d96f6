/**
 * The built CLI (dist/cli.mjs, from `npm run build`) as a real process: help and exit codes,
 * explain reading the token from stdin, and `sandbox --json --port 0` printing its JSON line,
 * serving a client-credentials token and a search over real HTTP, then exiting on SIGTERM with
 * its handler process gone.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  entraAppPayload,
  entraConfig,
  entraToken,
  makeSeedKeys,
  NOW_ISO,
  type SeedFiles,
  type SeedKeys,
  writeSeedFiles,
} from './fixtures/seed-tokens.ts';

const CLI = resolve(import.meta.dirname, '../../dist/cli.mjs');

function run(args: string[], stdin = ''): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
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

  it('prints its usage with help and exits 2 on a usage error', async () => {
    const help = await run(['help']);
    const wrong = await run(['explain', '--nope']);

    expect(help.code).toBe(0);
    expect(help.out).toContain('ahi-authorizer explain --config FILE');
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain("Unknown option '--nope'");
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
      issuer: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      dicomweb: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/datastore\/[0-9a-z]{32}$/),
      datastoreId: expect.stringMatching(/^[0-9a-z]{32}$/),
    });
    expect(info.dicomweb.endsWith(`/datastore/${info.datastoreId}`)).toBe(true);
    const reader = info.clients.find((client) => client.clientId === 'dicom-reader');
    expect(reader).toEqual({
      clientId: 'dicom-reader',
      clientSecret: expect.any(String),
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
