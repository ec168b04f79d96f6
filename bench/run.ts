/**
 * `npm run bench`: every figure is a same-run ratio, never a wall-clock promise (machines are noisy).
 * - warm (one child process, audit line included, stdout discarded): the physical floor
 *   (`node:crypto.verify` RS256 of the same token), jose's `compactVerify` alone, a first-seen token
 *   decision and a repeated token decision, as median/p99 and as ratios to the floor, at steady
 *   state (after warm-up, like the floor and jose) and `early` (the first decisions of a process);
 * - cold (a fresh process per run): import + first decision of dist/handler.mjs against a loopback
 *   HTTPS JWKS, and the same for a bundled minimal aws-jwt-verify authorizer and a bundled minimal
 *   plain-jose authorizer (bench/peers/), plus the aws-jwt-verify one given our cold-start duties
 *   (config validated with our schema, keys fetched at init, a log line per config load and per
 *   decision) for a like-for-like comparison; rounds interleave the contenders;
 * - the IdP-latency scenario (300 ms JWKS at cold start; warm decisions while it hangs);
 * - bundle size (entry + static chunks, without the lazily loaded SSM chunks) and peak memory.
 * Prints tables and writes bench/results/bench.json. Loopback only; bounded; stops by itself.
 */

import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { epoch, jwksOf, makeKey, signToken, type TestKey } from '../test/helpers/keys.ts';
import { idpLatencyScenario } from './idp-latency.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
/** Cold starts are cheap (~0.2 s each) and noisier than warm medians: more rounds. */
const COLD_ROUNDS = Number(process.env['BENCH_COLD_ROUNDS'] ?? 15);
const WARM_N = Number(process.env['BENCH_WARM_N'] ?? 1000);
const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench/results');
const ISS = 'https://idp.example.org';
const AUD = 'api://ahi-dicomweb';
const ROLE = 'arn:aws:iam::111122223333:role/healthimaging/AhiReadOnly';
const DS = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const median = (values: readonly number[]) => quantile(values, 0.5);
const r3 = (value: number) => Math.round(value * 1000) / 1000;

/** A throw-away self-signed certificate for 127.0.0.1 (aws-jwt-verify fetches over HTTPS only). */
function makeCertificate(dir: string) {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { key, cert };
}

async function startJwksServer(tls: { key: string; cert: string }, body: string) {
  const server = createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/jwks`,
    close: () => new Promise<void>((done) => server.close(() => done())).then(() => undefined),
    closeAll: () => server.closeAllConnections(),
  };
}

/** Bundles the peers the way a team would deploy them (esbuild, ESM, node22, minified). */
async function buildPeers(dir: string) {
  const outdir = join(dir, 'peers');
  await build({
    entryPoints: {
      'aws-jwt-verify': join(ROOT, 'bench/peers/aws-jwt-verify-authorizer.ts'),
      'aws-jwt-verify-same-duties': join(ROOT, 'bench/peers/aws-jwt-verify-same-duties-authorizer.ts'),
      jose: join(ROOT, 'bench/peers/jose-authorizer.ts'),
      'probe-empty': join(ROOT, 'bench/probes/empty.ts'),
      'probe-config-validation': join(ROOT, 'bench/probes/config-validation.ts'),
    },
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    outExtension: { '.js': '.mjs' },
    mainFields: ['module', 'main'],
    logLevel: 'error',
  });
  return {
    awsJwtVerify: join(outdir, 'aws-jwt-verify.mjs'),
    awsJwtVerifySameDuties: join(outdir, 'aws-jwt-verify-same-duties.mjs'),
    jose: join(outdir, 'jose.mjs'),
    probeEmpty: join(outdir, 'probe-empty.mjs'),
    probeConfigValidation: join(outdir, 'probe-config-validation.mjs'),
  };
}

// Timed with process.hrtime, not performance.now(): touching the global `performance` loads
// node:perf_hooks (~1.4 ms), a cost each contender must pay itself if it needs it.
const COLD_CHILD = `
const ms = () => Number(process.hrtime.bigint()) / 1e6;
const t0 = ms();
const { handler } = await import(process.env.BUNDLE);
const t1 = ms();
const r = await handler({ datastoreId: '${DS}', operation: 'GetDICOMInstance', bearerToken: process.env.TOKEN }, { awsRequestId: 'bench', getRemainingTimeInMillis: () => 3000 });
const t2 = ms();
process.send({ importMs: t1 - t0, firstMs: t2 - t1, allowed: r.roleArn !== '' });
`;

function runChild(script: string, env: Record<string, string>, stdio: 'ignore' | 'inherit' = 'ignore') {
  return new Promise<Record<string, unknown>>((done, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', stdio, 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    let result: Record<string, unknown> | undefined;
    child.on('message', (message) => {
      result = message as Record<string, unknown>;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result) done(result);
      else fail(new Error(`bench child exited ${code} without a result`));
    });
  });
}

/**
 * In one child: floor, jose alone, first-seen and repeated decisions of the real bundle. The
 * decisions are measured twice: right after the first one (`early`: V8 is still compiling the
 * handler's code, as in the first seconds of a fresh instance) and at steady state, after ~10,000
 * warm-up decisions (V8 has then optimised the whole path; the floor and jose get their own
 * warm-up too): the state of an instance serving viewers, each of which sends hundreds of requests
 * per study. Three disjoint token sets keep every first-seen token first-seen.
 */
const WARM_CHILD = `
import { readFileSync } from 'node:fs';
import { createPublicKey, verify } from 'node:crypto';
const { tokens, jwk } = JSON.parse(readFileSync(process.env.TOKENS_FILE, 'utf8'));
const { handler } = await import(process.env.BUNDLE);
const { compactVerify, importJWK } = await import(process.env.JOSE);
const ctx = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 3000 };
const ev = (t) => ({ datastoreId: '${DS}', operation: 'GetDICOMInstance', bearerToken: t });
const time = async (n, fn) => { const out = []; for (let i = 0; i < n; i++) { const s = performance.now(); await fn(i); out.push(performance.now() - s); } return out; };
const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
const [h, p, s] = tokens[0].split('.');
const input = Buffer.from(h + '.' + p); const sig = Buffer.from(s, 'base64url');
const cryptoKey = await importJWK(jwk, 'RS256');
for (let i = 0; i < 200; i++) { verify('RSA-SHA256', input, publicKey, sig); await compactVerify(tokens[0], cryptoKey); }
const n = (tokens.length - 1) / 3;
const set = (k) => tokens.slice(1 + k * n, 1 + (k + 1) * n);
const [early, warmUp, steady] = [set(0), set(1), set(2)];
let allowed = 0;
const decide = async (token) => { const r = await handler(ev(token), ctx); if (r.roleArn) allowed++; };
await decide(tokens[0]); // the first decision fetches the keys
const firstSeenEarly = await time(n, (i) => decide(early[i]));
const repeatedEarly = await time(n, () => decide(early[0]));
for (let i = 0; i < n; i++) { await decide(warmUp[i]); for (let j = 0; j < 8; j++) await decide(warmUp[0]); }
const floor = await time(n, () => { if (!verify('RSA-SHA256', input, publicKey, sig)) throw new Error('floor'); });
const jose = await time(n, () => compactVerify(tokens[0], cryptoKey));
const firstSeen = await time(n, (i) => decide(steady[i]));
const repeated = await time(n, () => decide(steady[0]));
process.send({ floor, jose, firstSeen, repeated, firstSeenEarly, repeatedEarly, allowed, expected: 13 * n + 1, maxRssKb: process.resourceUsage().maxRSS });
`;

function bundleBytes(): { entryAndStaticChunks: number; lazyChunks: number } {
  const meta = JSON.parse(readFileSync(join(ROOT, 'dist/handler.meta.json'), 'utf8')) as {
    outputs: Record<string, { bytes: number; imports: { path: string; kind: string }[] }>;
  };
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imported of meta.outputs[file]?.imports ?? []) {
      if (imported.kind === 'import-statement' && meta.outputs[imported.path]) visit(imported.path);
    }
  };
  visit('dist/handler.mjs');
  const all = Object.entries(meta.outputs).filter(([file]) => file.endsWith('.mjs'));
  const sum = (files: [string, { bytes: number }][]) =>
    files.reduce((total, [, out]) => total + out.bytes, 0);
  return {
    entryAndStaticChunks: sum(all.filter(([file]) => seen.has(file))),
    lazyChunks: sum(all.filter(([file]) => !seen.has(file))),
  };
}

async function main() {
  statSync(join(ROOT, 'dist/handler.mjs')); // npm run bench builds first
  const dir = mkdtempSync(join(tmpdir(), 'ahi-bench-'));
  const machine = {
    node: process.version,
    cpus: cpus().length,
    model: cpus()[0]?.model ?? '?',
    loadavg: loadavg(),
  };
  try {
    const tls = makeCertificate(dir);
    const peers = await buildPeers(dir);
    const key: TestKey = await makeKey('RS256', 'bench');
    const jwks = await startJwksServer(tls, JSON.stringify(jwksOf(key)));
    const now = Date.now();
    const mint = () =>
      signToken(key, {
        iss: ISS,
        sub: 'viewer',
        aud: AUD,
        scope: 'read',
        jti: randomUUID(),
        iat: epoch(now),
        exp: epoch(now, 3600),
      });

    const authorizerConfig = JSON.stringify({
      issuers: [{ issuer: ISS, jwksUri: jwks.url, audience: AUD }],
      rules: [{ name: 'readers', claims: { scope: 'read' }, roleArn: ROLE }],
    });
    const contenders = {
      'healthimaging-oidc-authorizer': {
        BUNDLE: pathToFileURL(join(ROOT, 'dist/handler.mjs')).href,
        AUTHORIZER_CONFIG: authorizerConfig,
      },
      'aws-jwt-verify (minimal)': { BUNDLE: pathToFileURL(peers.awsJwtVerify).href },
      'aws-jwt-verify (same duties)': {
        BUNDLE: pathToFileURL(peers.awsJwtVerifySameDuties).href,
        AUTHORIZER_CONFIG: authorizerConfig,
      },
      'jose (minimal)': { BUNDLE: pathToFileURL(peers.jose).href },
      // Probes (bench/probes/): not authorizers; they price one duty of ours against an empty handler.
      'probe: empty handler': { BUNDLE: pathToFileURL(peers.probeEmpty).href },
      'probe: config validation only': {
        BUNDLE: pathToFileURL(peers.probeConfigValidation).href,
        AUTHORIZER_CONFIG: authorizerConfig,
      },
    } as const;
    const peerEnv = { PEER_ISSUER: ISS, PEER_AUDIENCE: AUD, PEER_JWKS_URI: jwks.url, PEER_ROLE: ROLE };

    // Cold starts, interleaved: each round runs every contender once, in rotated order.
    const cold = new Map<
      string,
      { importMs: number[]; firstMs: number[]; totalMs: number[]; allowed: boolean[] }
    >();
    const names = Object.keys(contenders) as (keyof typeof contenders)[];
    for (let round = 0; round < COLD_ROUNDS; round += 1) {
      for (let i = 0; i < names.length; i += 1) {
        const name = names[(round + i) % names.length]!;
        const result = await runChild(COLD_CHILD, {
          ...contenders[name],
          ...peerEnv,
          TOKEN: await mint(),
          NODE_EXTRA_CA_CERTS: tls.cert,
        });
        const row = cold.get(name) ?? { importMs: [], firstMs: [], totalMs: [], allowed: [] };
        row.importMs.push(Number(result['importMs']));
        row.firstMs.push(Number(result['firstMs']));
        row.totalMs.push(Number(result['importMs']) + Number(result['firstMs']));
        row.allowed.push(result['allowed'] === true);
        cold.set(name, row);
        jwks.closeAll(); // no keep-alive socket carries over between processes
      }
    }

    // Warm: one child per round, medians of the per-round medians.
    const tokensFile = join(dir, 'tokens.json');
    const warmRounds: Record<string, number[]>[] = [];
    let maxRssKb = 0;
    let allAllowed = true;
    for (let round = 0; round < ROUNDS; round += 1) {
      const tokens = await Promise.all(Array.from({ length: 3 * WARM_N + 1 }, mint));
      writeFileSync(tokensFile, JSON.stringify({ tokens, jwk: key.jwk }));
      const result = await runChild(WARM_CHILD, {
        ...contenders['healthimaging-oidc-authorizer'],
        JOSE: pathToFileURL(join(ROOT, 'node_modules/jose/dist/webapi/index.js')).href,
        TOKENS_FILE: tokensFile,
        NODE_EXTRA_CA_CERTS: tls.cert,
      });
      warmRounds.push(result as unknown as Record<string, number[]>);
      maxRssKb = Math.max(maxRssKb, Number(result['maxRssKb']));
      allAllowed &&= result['allowed'] === result['expected'];
    }
    const warmStat = (field: string) => {
      const medians = warmRounds.map((round) => median(round[field] ?? []));
      const p99s = warmRounds.map((round) => quantile(round[field] ?? [], 0.99));
      return { medianMs: median(medians), p99Ms: median(p99s) };
    };
    const floor = warmStat('floor');
    const warm = Object.fromEntries(
      (
        [
          ['RS256 floor: node:crypto.verify', 'floor'],
          ['jose compactVerify alone', 'jose'],
          ['decision, first-seen token', 'firstSeen'],
          ['decision, repeated token', 'repeated'],
          ['early: first-seen (first decisions of a process)', 'firstSeenEarly'],
          ['early: repeated (first decisions of a process)', 'repeatedEarly'],
        ] as const
      ).map(([label, field]) => {
        const stat = warmStat(field);
        return [
          label,
          { medianMs: r3(stat.medianMs), p99Ms: r3(stat.p99Ms), xFloor: r3(stat.medianMs / floor.medianMs) },
        ];
      }),
    );

    await jwks.close();
    const idpLatency = await idpLatencyScenario();
    const ours = cold.get('healthimaging-oidc-authorizer')!;
    const peer = cold.get('aws-jwt-verify (minimal)')!;
    const coldTable = Object.fromEntries(
      [...cold]
        .filter(([name]) => !name.startsWith('probe:'))
        .map(([name, row]) => [
          name,
          {
            importMs: r3(median(row.importMs)),
            firstDecisionMs: r3(median(row.firstMs)),
            totalMs: r3(median(row.totalMs)),
            // The fastest run: the least disturbed by other load, a steadier comparison on a shared machine.
            minTotalMs: r3(quantile(row.totalMs, 0)),
            xAwsJwtVerify: r3(median(row.totalMs) / median(peer.totalMs)),
            allowed: row.allowed.every(Boolean),
          },
        ]),
    );
    const empty = cold.get('probe: empty handler')!;
    const probes = Object.fromEntries(
      [...cold]
        .filter(([name]) => name.startsWith('probe:'))
        .map(([name, row]) => [
          name,
          {
            totalMs: r3(median(row.totalMs)),
            minTotalMs: r3(quantile(row.totalMs, 0)),
            overEmptyMs: r3(median(row.totalMs) - median(empty.totalMs)),
          },
        ]),
    );
    const bytes = bundleBytes();
    const result = {
      machine,
      rounds: ROUNDS,
      coldRounds: COLD_ROUNDS,
      warmDecisionsPerRound: WARM_N,
      warm,
      warmAllAllowed: allAllowed,
      cold: coldTable,
      coldProbes: probes,
      idpLatency,
      bundle: {
        handlerKiB: r3(bytes.entryAndStaticChunks / 1024),
        lazySsmChunksKiB: r3(bytes.lazyChunks / 1024),
      },
      peakMemoryMiB: r3(maxRssKb / 1024),
      targets: {
        'repeated token ≤ 0.5× floor': (warm['decision, repeated token']?.xFloor ?? Infinity) <= 0.5,
        'first-seen token ≤ 5× floor': (warm['decision, first-seen token']?.xFloor ?? Infinity) <= 5,
        'cold start ≤ aws-jwt-verify': median(ours.totalMs) <= median(peer.totalMs),
        'bundle ≤ 200 KB': bytes.entryAndStaticChunks <= 200 * 1000,
      },
    };

    console.log(
      `machine: ${machine.model} ×${machine.cpus}, Node ${machine.node}, load ${machine.loadavg.map((l) => l.toFixed(2)).join(' ')}; ${ROUNDS} warm and ${COLD_ROUNDS} cold interleaved rounds`,
    );
    console.log('\nwarm (same process, audit line included; targets at steady state)');
    console.table(warm);
    console.log('cold start: fresh process, import + first decision, JWKS on loopback HTTPS');
    console.table(coldTable);
    console.log('cold-start probes: the price of one duty of ours, against an empty handler');
    console.table(probes);
    console.log('IdP latency: JWKS answers after 300 ms at cold start, then hangs');
    console.table({
      cold: idpLatency.coldStart.totalMs,
      'warm while hanging': {
        median: idpLatency.warmWhileIdpHangs.medianMs,
        max: idpLatency.warmWhileIdpHangs.maxMs,
      },
    });
    console.log(
      `bundle: ${result.bundle.handlerKiB} KiB (lazy SSM chunks ${result.bundle.lazySsmChunksKiB} KiB); peak RSS ${result.peakMemoryMiB} MiB`,
    );
    console.table(result.targets);
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${join(OUT, 'bench.json')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
