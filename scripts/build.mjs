/**
 * Builds the artifacts that are a public contract: dist/handler.mjs, the Lambda bundle (ESM, exports
 * `handler`), and dist/cli.mjs when the CLI exists. Code splitting keeps the AWS SDK SSM client in a
 * chunk loaded only when AUTHORIZER_CONFIG_PARAMETER is the configuration source.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** The Lambda runtime (infra deploys nodejs24.x). */
const LAMBDA_TARGET = 'node24';
/** package.json engines: where the CLI may run. */
const CLI_TARGET = 'node20';

const common = {
  bundle: true,
  platform: 'node',
  target: LAMBDA_TARGET,
  format: 'esm',
  minify: true,
  sourcemap: false,
  legalComments: 'linked',
  // Prefer the ESM builds of dependencies (the AWS SDK ships both).
  mainFields: ['module', 'main'],
  define: { __AUTHORIZER_VERSION__: JSON.stringify(version) },
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
  metafile: true,
};

rmSync('dist', { recursive: true, force: true });

const lambda = await build({
  ...common,
  entryPoints: { handler: 'src/core/handler.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});
writeFileSync('dist/handler.meta.json', JSON.stringify(lambda.metafile));

// The same code as a factory (`createAuthorizer`) for the tests and the sandbox, which inject their
// own log writer and clock; not part of the Lambda asset (infra keeps only handler.mjs and chunks/).
// The sandbox loads it on the Node.js that runs the CLI, so it targets the CLI's oldest Node.js.
await build({
  ...common,
  entryPoints: { authorizer: 'src/core/lambda/create-authorizer.ts' },
  outdir: 'dist/authorizer',
  target: CLI_TARGET,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  metafile: false,
});

if (existsSync('src/tools/cli/main.ts')) {
  await build({
    ...common,
    entryPoints: { cli: 'src/tools/cli/main.ts' },
    outdir: 'dist',
    target: CLI_TARGET,
    // The CLI runs where the package is installed: its npm dependencies (oidc-provider for the
    // sandbox among them) stay external instead of being bundled.
    packages: 'external',
    banner: { js: '#!/usr/bin/env node' },
  });
  // esbuild writes files without the execute bit, and `rmSync('dist')` above drops any earlier one:
  // the package's bin must be executable (npm sets it on install, but not in a clone).
  chmodSync('dist/cli.mjs', 0o755);
}

const size = (file) => `${(readFileSync(file).length / 1024).toFixed(1)} KiB`;
console.log(
  `built dist/handler.mjs (${size('dist/handler.mjs')})${existsSync('dist/cli.mjs') ? `, dist/cli.mjs (${size('dist/cli.mjs')})` : ''}`,
);

// The custom-resource Lambda behind infra's `createDatastore`: its own directory, so the authorizer's
// asset (handler.mjs + chunks/) never contains it. The HealthImaging SDK client is bundled because the
// Lambda runtime's copy of the SDK may predate `lambdaAuthorizerArn`.
if (existsSync('src/custom-resources/create-datastore.ts')) {
  await build({
    ...common,
    entryPoints: { 'create-datastore': 'src/custom-resources/create-datastore.ts' },
    outdir: 'dist/custom-resources',
  });
  console.log(
    `built dist/custom-resources/create-datastore.mjs (${size('dist/custom-resources/create-datastore.mjs')})`,
  );
}

// ESM output has no `require`. When a bundled CommonJS module calls require(), esbuild emits a shim
// that throws "Dynamic require of … is not supported" at run time: fail the build instead (the fix
// is a createRequire banner, which adds to every cold start, so it is added only if needed).
const withShim = readdirSync('dist', { recursive: true })
  .map(String)
  .filter(
    (file) => file.endsWith('.mjs') && readFileSync(`dist/${file}`, 'utf8').includes('Dynamic require of'),
  );
if (withShim.length > 0) {
  console.error(`build: CommonJS require() shim in ${withShim.join(', ')}`);
  process.exit(1);
}
