/**
 * Cold starts of the built bundle in a fresh Node.js process, import included, while the JWKS
 * endpoint hangs or fails: the first request must still be denied well inside HealthImaging's 1 s.
 * Generous bounds only (the budget is 800 ms); the precise figures belong to `npm run bench`.
 */

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type Behaviour, type IdpServer, startIdpServer } from '../support/idp-server.ts';
import { epoch, jwksOf, makeKey, signToken, type TestKey } from '../support/keys.ts';

const BUNDLE = pathToFileURL(resolve(import.meta.dirname, '../../dist/handler.mjs')).href;
const ISS = 'https://idp.example.org';
const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

const CHILD = `
const t0 = performance.now();
const { handler } = await import(process.env.BUNDLE);
const result = await handler(JSON.parse(process.env.EVENT), { awsRequestId: 'cold', getRemainingTimeInMillis: () => 3000 });
process.stderr.write(JSON.stringify({ ms: performance.now() - t0, result }) + '\\n');
process.exit(0);
`;

interface ColdRun {
  ms: number;
  result: unknown;
  reason?: string | undefined;
}

function coldRun(env: Record<string, string>): Promise<ColdRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { PATH: process.env['PATH'] ?? '', BUNDLE, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('close', () => {
      clearTimeout(timer);
      try {
        const summary = JSON.parse(err.trim().split('\n').at(-1) ?? '{}') as Omit<ColdRun, 'reason'>;
        const decision = out
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { message?: unknown; reason?: string })
          .find((record) => record.message === 'authorization decision');
        done({ ...summary, reason: decision?.reason });
      } catch (error) {
        fail(new Error(`child output unreadable: ${String(error)}\n${err}`));
      }
    });
  });
}

let idp: IdpServer | undefined;
afterEach(async () => {
  await idp?.close();
  idp = undefined;
});

async function scenario(behaviourFor: (key: TestKey) => Behaviour) {
  idp = await startIdpServer();
  const key = await makeKey('RS256', 'k1');
  idp.on('/jwks', behaviourFor(key));
  const now = Date.now();
  const token = await signToken(key, {
    iss: ISS,
    sub: 's',
    aud: 'api',
    scope: 'read',
    iat: epoch(now),
    exp: epoch(now, 300),
  });
  const config = {
    issuers: [{ issuer: ISS, jwksUri: `${idp.url}/jwks`, audience: 'api' }],
    rules: [{ name: 'readers', claims: { scope: 'read' }, roleArn: 'arn:aws:iam::111122223333:role/R' }],
  };
  return coldRun({
    AUTHORIZER_CONFIG: JSON.stringify(config),
    EVENT: JSON.stringify({ datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: token }),
  });
}

describe('cold start of the built bundle', () => {
  it('denies with idp_unavailable inside 1 s, import included, when the JWKS endpoint hangs', async () => {
    const run = await scenario(() => ({ kind: 'hang' }));
    expect(run.result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(run.reason).toBe('idp_unavailable');
    expect(run.ms).toBeLessThan(1000);
  });

  it('denies with idp_unavailable inside 1 s, import included, when the JWKS endpoint answers 503', async () => {
    const run = await scenario(() => ({ kind: 'status', status: 503 }));
    expect(run.result).toEqual({ isTokenValid: false, roleArn: '' });
    expect(run.reason).toBe('idp_unavailable');
    expect(run.ms).toBeLessThan(1000);
  });

  it('allows on the first request when the JWKS endpoint answers within 300 ms', async () => {
    const run = await scenario((key) => ({ kind: 'json', body: jwksOf(key), delayMs: 300 }));
    expect(run.result).toEqual({ isTokenValid: true, roleArn: 'arn:aws:iam::111122223333:role/R' });
    expect(run.reason).toBe('allowed');
    expect(run.ms).toBeLessThan(1000);
  });
});
