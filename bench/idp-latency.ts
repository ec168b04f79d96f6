/**
 * Benchmark scenario "IdP latency" (also run by `npm run bench`): the built bundle's first
 * decision at cold start against a JWKS endpoint with 300 ms latency (a fresh Node.js process per
 * run, import included), and warm decisions with new tokens while that endpoint hangs. Prints a
 * table and writes bench/results/idp-latency.json. Loopback only; bounded runs; stops by itself.
 */

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Behaviour, startIdpServer } from '../test/support/idp-server.ts';
import { epoch, jwksOf, makeKey, signToken } from '../test/support/keys.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const WARM = Number(process.env['BENCH_WARM'] ?? 200);
const BUNDLE = pathToFileURL(resolve(import.meta.dirname, '../dist/handler.mjs')).href;
const ISS = 'https://idp.example.org';
const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** Runs in the fresh process: import, first decision, then `WARM` decisions with new tokens. */
const CHILD = `
const t0 = performance.now();
const { handler } = await import(process.env.BUNDLE);
const t1 = performance.now();
const context = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 3000 };
const event = (bearerToken) => ({ datastoreId: '${DS}', operation: 'GetDICOMInstance', bearerToken });
const tokens = JSON.parse(process.env.TOKENS);
const first = await handler(event(tokens[0]), context);
const t2 = performance.now();
process.send?.({ phase: 'first' });
await new Promise((resume) => process.once('message', resume));
const warm = [];
let allowed = 0;
for (const token of tokens.slice(1)) {
  const s = performance.now();
  const r = await handler(event(token), context);
  warm.push(performance.now() - s);
  if (r.roleArn) allowed += 1;
}
process.send?.({ phase: 'done', importMs: t1 - t0, firstDecisionMs: t2 - t1, firstAllowed: first.roleArn !== '', warm, allowed });
`;

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const round = (value: number) => Math.round(value * 100) / 100;

interface Run {
  importMs: number;
  firstDecisionMs: number;
  firstAllowed: boolean;
  warm: number[];
  allowed: number;
}

async function oneRun(): Promise<Run> {
  const idp = await startIdpServer();
  try {
    const key = await makeKey('RS256', 'bench');
    idp.on('/jwks', { kind: 'json', body: jwksOf(key), delayMs: 300 } satisfies Behaviour);
    const now = Date.now();
    const tokens = await Promise.all(
      Array.from({ length: WARM + 1 }, () =>
        signToken(key, {
          iss: ISS,
          sub: 's',
          aud: 'api',
          scope: 'read',
          jti: randomUUID(),
          iat: epoch(now),
          exp: epoch(now, 600),
        }),
      ),
    );
    const config = {
      issuers: [{ issuer: ISS, jwksUri: `${idp.url}/jwks`, audience: 'api' }],
      rules: [{ name: 'readers', claims: { scope: 'read' }, roleArn: 'arn:aws:iam::111122223333:role/R' }],
    };
    return await new Promise<Run>((done, fail) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
        env: {
          PATH: process.env['PATH'] ?? '',
          BUNDLE,
          TOKENS: JSON.stringify(tokens),
          AUTHORIZER_CONFIG: JSON.stringify(config),
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('message', (message: { phase: string } & Partial<Run>) => {
        if (message.phase === 'first') {
          // The IdP now hangs: warm decisions must come from the cache.
          idp.on('/jwks', { kind: 'hang' });
          child.send('go');
        } else {
          clearTimeout(timer);
          child.kill();
          done(message as Run);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (code !== 0 && code !== null) fail(new Error(`bench child exited ${code}`));
      });
    });
  } finally {
    await idp.close();
  }
}

export async function idpLatencyScenario() {
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i += 1) runs.push(await oneRun());
  const warm = runs.flatMap((run) => run.warm);
  return {
    scenario: 'idp-latency',
    jwksLatencyMs: 300,
    runs: RUNS,
    coldStart: {
      importAndInitMs: {
        median: round(
          quantile(
            runs.map((r) => r.importMs),
            0.5,
          ),
        ),
        max: round(Math.max(...runs.map((r) => r.importMs))),
      },
      firstDecisionMs: {
        median: round(
          quantile(
            runs.map((r) => r.firstDecisionMs),
            0.5,
          ),
        ),
        max: round(Math.max(...runs.map((r) => r.firstDecisionMs))),
      },
      totalMs: {
        median: round(
          quantile(
            runs.map((r) => r.importMs + r.firstDecisionMs),
            0.5,
          ),
        ),
        max: round(Math.max(...runs.map((r) => r.importMs + r.firstDecisionMs))),
      },
      firstAllowed: runs.every((r) => r.firstAllowed),
    },
    warmWhileIdpHangs: {
      decisions: warm.length,
      allowed: runs.reduce((sum, r) => sum + r.allowed, 0),
      medianMs: round(quantile(warm, 0.5)),
      p99Ms: round(quantile(warm, 0.99)),
      maxMs: round(Math.max(...warm)),
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = {
    machine: { node: process.version, cpus: cpus().length, model: cpus()[0]?.model },
    ...(await idpLatencyScenario()),
  };
  console.log(`IdP latency scenario (${result.runs} fresh processes, JWKS answers after 300 ms, then hangs)`);
  console.table({
    'cold: import + init (ms)': result.coldStart.importAndInitMs,
    'cold: first decision (ms)': result.coldStart.firstDecisionMs,
    'cold: total (ms)': result.coldStart.totalMs,
  });
  console.table({ 'warm, IdP hanging (ms)': result.warmWhileIdpHangs });
  console.log(`first decision allowed in every run: ${result.coldStart.firstAllowed}`);
  mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    resolve(import.meta.dirname, 'results/idp-latency.json'),
    `${JSON.stringify(result, null, 2)}\n`,
  );
}
