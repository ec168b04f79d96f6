/**
 * Benchmark "hostile input": what unauthenticated garbage costs us. Times inspectToken()
 * and a whole authorize() per rejection of each hostile token (multi-megabyte, millions of dots,
 * huge or deeply nested headers, the worst that fits under the cap), beside a normal RS256 verify
 * for scale. Writes bench/results/hostile-input.json. Run: node --import tsx bench/hostile-input.ts
 */

import { constants, createSign, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CryptoKey, exportJWK, importJWK } from 'jose';
import { type AuthorizeDeps, authorize } from '../src/core/authorize.ts';
import type { ConfigState } from '../src/core/config/config-loader.ts';
import { parseConfig } from '../src/core/config/schema.ts';
import { createDeadline } from '../src/core/kernel/deadline.ts';
import type { KeyStore } from '../src/core/keys/key-store.ts';
import { MAX_TOKEN_LENGTH } from '../src/core/kernel/limits.ts';
import { inspectToken } from '../src/core/token/inspect-token.ts';

const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 2000);
const WARMUP = 50;
const ISS = 'https://idp.example.org';
const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const S = NOW / 1000;

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64url = (text: string) => Buffer.from(text).toString('base64url');

/** A compact JWS over exactly these header/payload texts, RS256-signed. */
function sign(header: string, payload: string): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const signer = createSign('RSA-SHA256');
  signer.update(input);
  return `${input}.${signer.sign(privateKey).toString('base64url')}`;
}

const header = (extra = '') => `{"alg":"RS256","kid":"bench"${extra}}`;
const claims = (iss: string, extra = '') =>
  `{"iss":"${iss}","sub":"s","aud":"api","scope":"read","iat":${S - 10},"exp":${S + 600}${extra}}`;
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const members = (count: number) => Array.from({ length: count }, (_, i) => `,"m${i}":0`).join('');

interface HostileInput {
  name: string;
  token: string;
  reason: string;
}

/** Pads a token's payload so the whole token is just under the cap. */
function underCap(make: (pad: string) => string): string {
  let pad = '';
  let token = make(pad);
  while (token.length < MAX_TOKEN_LENGTH - 400) {
    pad += 'x'.repeat(Math.max(1, Math.floor((MAX_TOKEN_LENGTH - 400 - token.length) * 0.7)));
    token = make(pad);
  }
  return token;
}

function hostileInputs(): HostileInput[] {
  return [
    {
      name: '4 MB validly signed token',
      token: sign(header(), claims(ISS, `,"pad":"${'x'.repeat(4_000_000)}"`)),
      reason: 'token_too_large',
    },
    { name: '5 MB of dots', token: '.'.repeat(5_000_000), reason: 'token_too_large' },
    {
      name: '1.9 MB header, 100k members',
      token: sign(header(members(100_000)), claims(ISS)),
      reason: 'token_too_large',
    },
    {
      name: '800 KB nested header',
      token: sign(header(`,"x":${nested(400_000)}`), claims(ISS)),
      reason: 'token_too_large',
    },
    { name: '16 KiB of dots (at the cap)', token: '.'.repeat(MAX_TOKEN_LENGTH), reason: 'token_malformed' },
    { name: '16 KiB base64url, no dots', token: 'A'.repeat(MAX_TOKEN_LENGTH), reason: 'token_malformed' },
    {
      name: 'header with 65 members',
      token: sign(header(members(63)), claims(ISS)),
      reason: 'token_too_large',
    },
    {
      name: 'header nested 3000 deep',
      token: sign(header(`,"x":${nested(3000)}`), claims(ISS)),
      reason: 'token_too_large',
    },
    {
      name: 'payload nested 5000 deep',
      token: sign(header(), `{"x":${nested(5000)}}`),
      reason: 'claims_invalid',
    },
    {
      name: '~16 KiB token, unknown iss (full parse)',
      token: underCap((pad) => sign(header(), claims('https://evil.example', `,"pad":"${pad}"`))),
      reason: 'issuer_invalid',
    },
    {
      name: '~15 KiB payload, 1100 members, unknown iss',
      token: sign(header(), claims('https://evil.example', members(1100))),
      reason: 'issuer_invalid',
    },
  ];
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const round = (value: number) => Math.round(value * 100) / 100;

interface Timing {
  medianUs: number;
  p99Us: number;
}

async function time(run: () => unknown, iterations: number): Promise<Timing> {
  for (let i = 0; i < WARMUP; i += 1) await run();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const started = performance.now();
    await run();
    samples.push((performance.now() - started) * 1000);
  }
  samples.sort((a, b) => a - b);
  return { medianUs: round(quantile(samples, 0.5)), p99Us: round(quantile(samples, 0.99)) };
}

/** Config cached; without a key, a hostile input that reaches the key store fails the run. */
function depsFor(key?: CryptoKey): AuthorizeDeps {
  const parsed = parseConfig({
    issuers: [{ issuer: ISS, jwksUri: `${ISS}/jwks`, audience: 'api' }],
    rules: [{ name: 'readers', claims: { scope: 'read' }, roleArn: 'arn:aws:iam::111122223333:role/R' }],
  });
  if (!parsed.ok) throw new Error('bench config invalid');
  const state: ConfigState = {
    ok: true,
    loaded: { config: parsed.config, version: 'bench', source: 'inline' },
  };
  const keys = {
    getKey: () =>
      key === undefined
        ? Promise.reject(new Error('a hostile input reached the key store'))
        : Promise.resolve({ ok: true, key, cacheState: 'fresh', keysAgeMs: 1 }),
  } as unknown as KeyStore;
  return { config: { load: () => Promise.resolve(state) }, keys, now: () => NOW };
}

export async function hostileInputScenario() {
  const hostileDeps = depsFor();
  const rows = [];
  for (const input of hostileInputs()) {
    const inspected = inspectToken(input.token);
    const event = { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: input.token };
    const { decision } = await authorize(event, hostileDeps, createDeadline(10_000));
    const reason = inspected.ok ? decision.reason : inspected.reason;
    if (reason !== input.reason || decision.reason !== input.reason) {
      throw new Error(`${input.name}: expected ${input.reason}, got ${reason} / ${decision.reason}`);
    }
    // Multi-megabyte inputs are built once; fewer iterations keep the run short without changing medians.
    const iterations = input.token.length > 100_000 ? Math.min(ITERATIONS, 500) : ITERATIONS;
    rows.push({
      input: input.name,
      bytes: input.token.length,
      reason: input.reason,
      inspectToken: await time(() => inspectToken(input.token), iterations),
      authorize: await time(() => authorize(event, hostileDeps, createDeadline(10_000)), iterations),
    });
  }

  // For scale: the signature check of a normal token, and a whole warm allowed decision.
  const normal = sign(header(), claims(ISS));
  const [h = '', p = '', s = ''] = normal.split('.');
  const signingInput = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  const rsaVerify = await time(
    () =>
      cryptoVerify(
        'RSA-SHA256',
        signingInput,
        { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
        signature,
      ),
    ITERATIONS,
  );
  const cryptoKey = (await importJWK(
    { ...(await exportJWK(publicKey)), alg: 'RS256' },
    'RS256',
  )) as CryptoKey;
  const allowDeps = depsFor(cryptoKey);
  const allowEvent = { datastoreId: DS, operation: 'GetDICOMInstance', bearerToken: normal };
  const allowed = await authorize(allowEvent, allowDeps, createDeadline(10_000));
  if (allowed.decision.reason !== 'allowed') throw new Error(`normal token: ${allowed.decision.reason}`);
  const warmAllow = await time(() => authorize(allowEvent, allowDeps, createDeadline(10_000)), ITERATIONS);

  return {
    scenario: 'hostile-input',
    iterations: ITERATIONS,
    tokenCap: MAX_TOKEN_LENGTH,
    rejections: rows,
    scale: {
      rs256CryptoVerifyNormalToken: rsaVerify,
      authorizeAllowedWarmKey: warmAllow,
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = {
    machine: { node: process.version, cpus: cpus().length, model: cpus()[0]?.model },
    ...(await hostileInputScenario()),
  };
  console.log(`Hostile input: cost per rejection in µs (${result.iterations} runs; multi-MB inputs 500)`);
  console.table(
    Object.fromEntries(
      result.rejections.map((row) => [
        row.input,
        {
          bytes: row.bytes,
          reason: row.reason,
          'inspect median': row.inspectToken.medianUs,
          'inspect p99': row.inspectToken.p99Us,
          'authorize median': row.authorize.medianUs,
          'authorize p99': row.authorize.p99Us,
        },
      ]),
    ),
  );
  console.log('For scale (µs):');
  console.table({
    'RS256 crypto.verify, normal token': result.scale.rs256CryptoVerifyNormalToken,
    'authorize() allowed, warm key': result.scale.authorizeAllowedWarmKey,
  });
  mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    resolve(import.meta.dirname, 'results/hostile-input.json'),
    `${JSON.stringify(result, null, 2)}\n`,
  );
}
