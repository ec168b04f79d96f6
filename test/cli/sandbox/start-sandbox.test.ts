/**
 * The sandbox end to end on random ports: client-credentials tokens from the embedded OpenID Provider,
 * the emulator invoking the built bundle (dist/authorizer/authorizer.mjs, so `npm run build` must have
 * run) in a child process, and HealthImaging's answers: 200, both 403s, and 408 and 424 from
 * misbehaving bundles. Nothing is left running.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, SandboxConfigError, startSandbox } from '../../../src/tools/sandbox/start-sandbox.ts';
import { makeKey } from '../../support/keys.ts';

const RO = 'arn:aws:iam::111122223333:role/SandboxDicomReadOnly';
const RW = 'arn:aws:iam::111122223333:role/SandboxDicomReadWrite';

function isRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The OAuth client-credentials grant over real HTTP, as the printed curl command does it. */
async function clientCredentials(sandbox: Sandbox, clientId: string): Promise<string> {
  const client = sandbox.clients.find((candidate) => candidate.clientId === clientId);
  if (!client) throw new Error(`no client ${clientId}`);
  const response = await fetch(sandbox.tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: client.scope }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { access_token: string; token_type: string };
  expect(body.token_type).toBe('Bearer');
  return body.access_token;
}

async function call(sandbox: Sandbox, method: string, path: string, token?: string) {
  const response = await fetch(`${sandbox.dicomweb}${path}`, {
    method,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    ...(method === 'POST' ? { body: 'not really DICOM' } : {}),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    reason: response.headers.get('x-authorizer-reason'),
    role: response.headers.get('x-authorizer-role'),
    precheck: response.headers.get('x-healthimaging-precheck'),
  };
}

describe('the sandbox with the built handler', () => {
  let sandbox: Sandbox;
  const lines: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0, onHandlerLine: (line) => lines.push(line) });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('serves DICOMweb on loopback under /datastore/<id> and issues tokens from its own issuer', () => {
    expect(sandbox.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.dicomweb).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/datastore\/sandbox0000000000000000000000ahi$/,
    );
    expect(sandbox.trustsEmbeddedIdp).toBe(true);
    expect(sandbox.clients.map((client) => [client.clientId, client.scope])).toEqual([
      ['dicom-reader', 'dicom.read'],
      ['dicom-writer', 'dicom.read dicom.write'],
    ]);
  });

  it('allows the reader to search studies: 200 naming the read-only role', async () => {
    const token = await clientCredentials(sandbox, 'dicom-reader');

    const answer = await call(sandbox, 'GET', '/studies', token);

    expect(answer).toMatchObject({ status: 200, reason: 'allowed', role: RO });
    expect(answer.body).toMatchObject({ operation: 'SearchDICOMStudies', roleArn: RO });
  });

  it('denies the reader a store: 403 Access Denied with operation_not_permitted', async () => {
    const token = await clientCredentials(sandbox, 'dicom-reader');

    const answer = await call(sandbox, 'POST', '/studies', token);

    expect(answer).toMatchObject({ status: 403, reason: 'operation_not_permitted', role: null });
    expect(answer.body).toEqual({ message: 'Access Denied' });
  });

  it('allows the writer to store into a study: 200 naming the read-write role', async () => {
    const token = await clientCredentials(sandbox, 'dicom-writer');

    const answer = await call(sandbox, 'POST', '/studies/1.2.840.99', token);

    expect(answer).toMatchObject({ status: 200, reason: 'allowed', role: RW });
    expect(answer.body).toMatchObject({ operation: 'StoreDICOMStudy' });
  });

  it('answers 403 Invalid or Expired Token for a tampered token (signature_invalid)', async () => {
    const token = await clientCredentials(sandbox, 'dicom-reader');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'dicom.read dicom.write' })).toString(
      'base64url',
    );

    const answer = await call(sandbox, 'POST', '/studies', `${header}.${forged}.${signature}`);

    expect(answer).toMatchObject({ status: 403, reason: 'signature_invalid' });
    expect(answer.body).toEqual({ message: 'Invalid or Expired Token' });
  });

  it('answers 403 Invalid or Expired Token for an expired token in its own pre-check, before the authorizer', async () => {
    const key = await makeKey('RS256', 'anything');
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ scope: 'dicom.read' })
      .setProtectedHeader({ alg: 'RS256', kid: 'anything' })
      .setIssuer(sandbox.issuer)
      .setIssuedAt(now - 3600)
      .setExpirationTime(now - 60)
      .sign(key.privateKey);

    const answer = await call(sandbox, 'GET', '/studies', expired);

    expect(answer).toMatchObject({ status: 403, reason: null, precheck: 'exp is not after now' });
    expect(answer.body).toEqual({ message: 'Invalid or Expired Token' });
  });

  it('answers 403 Missing Authentication Token without a bearer token, and 404 off the DICOMweb paths', async () => {
    expect((await call(sandbox, 'GET', '/studies')).status).toBe(403);
    expect((await call(sandbox, 'GET', '/studies/1/rendered', 'a.b.c')).status).toBe(404);
  });

  it('writes the handler audit lines to its own channel, never the token', async () => {
    const token = await clientCredentials(sandbox, 'dicom-reader');
    await call(sandbox, 'GET', '/studies/1.2/series/3.4/instances/5.6/frames/1', token);

    const decisions = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record['message'] === 'authorization decision');
    expect(decisions.at(-1)).toMatchObject({ operation: 'GetDICOMInstanceFrames', reason: 'allowed' });
    expect(lines.join('\n')).not.toContain(token);
  });

  it('stops the provider, the emulator and the handler process on close()', async () => {
    const pid = sandbox.handlerPid();
    expect(isRunning(pid)).toBe(true);

    await sandbox.close();

    expect(isRunning(pid)).toBe(false);
    await expect(fetch(`${sandbox.dicomweb}/studies`)).rejects.toThrow();
    await expect(fetch(`${sandbox.issuer}/.well-known/openid-configuration`)).rejects.toThrow();
  });
});

describe('the sandbox with misbehaving handler bundles', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ahi-sandbox-test-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function withHandler(source: string, run: (sandbox: Sandbox, token: string) => Promise<void>) {
    const handlerPath = join(dir, `handler-${Math.random().toString(36).slice(2)}.mjs`);
    await writeFile(handlerPath, source);
    const sandbox = await startSandbox({ port: 0, handlerPath, decideExamples: false });
    try {
      await run(sandbox, await sandbox.getToken('dicom-reader'));
    } finally {
      await sandbox.close();
    }
    expect(isRunning(sandbox.handlerPid())).toBe(false);
  }

  it('passes the exact HealthImaging event and maps an allow to 200', async () => {
    const source = `export const handler = async (event, context) => {
      console.log(JSON.stringify({ keys: Object.keys(event).sort(), operation: event.operation, remaining: context.getRemainingTimeInMillis() > 0 }));
      return { isTokenValid: true, roleArn: 'arn:aws:iam::111122223333:role/Echo' };
    };`;
    const seen: string[] = [];
    const handlerPath = join(dir, 'echo.mjs');
    await writeFile(handlerPath, source);
    const sandbox = await startSandbox({
      port: 0,
      handlerPath,
      decideExamples: false,
      onHandlerLine: (line) => seen.push(line),
    });
    try {
      const answer = await call(
        sandbox,
        'GET',
        '/studies/1/series/2/metadata',
        await sandbox.getToken('dicom-reader'),
      );

      expect(answer).toMatchObject({ status: 200, role: 'arn:aws:iam::111122223333:role/Echo' });
      expect(JSON.parse(seen.at(-1) ?? '{}')).toEqual({
        keys: ['bearerToken', 'datastoreId', 'operation'],
        operation: 'GetDICOMSeriesMetadata',
        remaining: true,
      });
    } finally {
      await sandbox.close();
    }
  });

  it('answers 408 when the handler takes longer than 1 s', async () => {
    await withHandler('export const handler = () => new Promise(() => {});', async (sandbox, token) => {
      const started = performance.now();
      const answer = await call(sandbox, 'GET', '/studies', token);
      expect(answer.status).toBe(408);
      expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    });
  });

  it('answers 424 when the handler throws or answers a malformed result', async () => {
    await withHandler(
      "export const handler = async () => { throw new Error('boom'); };",
      async (sandbox, token) => {
        expect((await call(sandbox, 'GET', '/studies', token)).status).toBe(424);
      },
    );
    await withHandler('export const handler = async () => ({ allowed: true });', async (sandbox, token) => {
      expect((await call(sandbox, 'GET', '/studies', token)).status).toBe(424);
    });
  });

  it('answers 424 when the handler process dies, and starts a new one for the next request', async () => {
    const marker = join(dir, 'crashed-once');
    const source = `import { existsSync, writeFileSync } from 'node:fs';
      export const handler = async () => {
        if (!existsSync(${JSON.stringify(marker)})) { writeFileSync(${JSON.stringify(marker)}, 'x'); process.exit(3); }
        return { isTokenValid: true, roleArn: '' };
      };`;
    await withHandler(source, async (sandbox, token) => {
      const firstPid = sandbox.handlerPid();
      expect((await call(sandbox, 'GET', '/studies', token)).status).toBe(424);
      const second = await call(sandbox, 'GET', '/studies', token);
      expect(second).toMatchObject({ status: 403, body: { message: 'Access Denied' } });
      expect(sandbox.handlerPid()).not.toBe(firstPid);
    });
  });

  it("fails to start with the loader's error when the bundle cannot load", async () => {
    const handlerPath = join(dir, 'broken.mjs');
    await writeFile(handlerPath, "throw new Error('cannot load');");

    await expect(startSandbox({ port: 0, handlerPath })).rejects.toThrow(
      /failed to load: Error: cannot load/,
    );
  });

  it('rejects an invalid configuration with its JSON paths', async () => {
    const configPath = join(dir, 'bad-config.json');
    await writeFile(configPath, JSON.stringify({ issuers: [], rules: [] }));

    const error = await startSandbox({ port: 0, configPath }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SandboxConfigError);
    expect((error as SandboxConfigError).issues.map((issue) => issue.path)).toEqual(['$.issuers', '$.rules']);
  });
});
