/**
 * What the docs and the sandbox banner print for people to type runs as printed, in a fresh clone of
 * the committed HEAD (commit first) after its own `npm run build`, offline: a preloaded module fails
 * DNS lookups of every name but localhost. The rules for each kind of command sit beside the code.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');

const CLI_LINE = /^(?:echo "\$TOKEN" \| )?npm run -s ahi-authorizer -- (\S.*)$/;
const START_LINE = /^npm start(?: -- \S.*)?$/;
const BUILD_LINE = /^npm run build$/;
/** A copy of a repository file under deploy/, both paths relative and inside the clone. */
const COPY_LINE = /^cp ((?!\/)(?!\S*\.\.)\S+) (deploy\/(?!\S*\.\.)\S+)$/;
/** What `.ci/run` runs from a fresh clone; `npm test` runs this very test. */
const CI_LINE = /^npm (?:ci|test)$/;
const NO_RUN = /^<!--\s*no-run:\s*(\S.*?)\s*-->$/;
const FENCE_OPEN = /^(\s*)```(?:sh|bash|shell)\s*$/;
const FENCE_CLOSE = /^\s*```\s*$/;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const EXPLAIN_STEPS = ['format', 'header', 'issuer', 'key', 'signature', 'claims', 'rules'];

interface DocCommand {
  file: string;
  line: number;
  text: string;
  noRun?: string;
}

/**
 * The commands of every ```sh, ```bash or ```shell block, with the no-run reason of their block: a block
 * preceded (blank lines allowed) by `<!-- no-run: <reason> -->` is skipped, for what needs an AWS
 * account, `npm ci`, `npm test` or an edited file. Blank and `#` lines are dropped, lines ending in `\`
 * joined, a trailing ` # comment` dropped, and `a && b` split in two.
 */
function shCommands(file: string, markdown: string): DocCommand[] {
  const lines = markdown.split('\n');
  const commands: DocCommand[] = [];
  for (let open = 0; open < lines.length; open++) {
    const fence = FENCE_OPEN.exec(lines[open] ?? '');
    if (fence === null) continue;
    let before = open - 1;
    while (before >= 0 && lines[before]?.trim() === '') before--;
    const noRun = NO_RUN.exec(lines[before]?.trim() ?? '')?.[1];
    let pending: { line: number; text: string } | undefined;
    let index = open + 1;
    for (; index < lines.length && !FENCE_CLOSE.test(lines[index] ?? ''); index++) {
      const raw = (lines[index] ?? '').slice(fence[1]?.length ?? 0);
      const text = pending === undefined ? raw.trim() : `${pending.text} ${raw.trim()}`;
      const line = pending?.line ?? index + 1;
      if (text.endsWith('\\')) {
        pending = { line, text: text.slice(0, -1).trimEnd() };
        continue;
      }
      pending = undefined;
      if (text === '' || text.startsWith('#')) continue;
      const command = /["']/.test(text) ? text : text.replace(/\s+#\s.*$/, '');
      for (const part of command.split(' && ').map((piece) => piece.trim())) {
        commands.push(noRun === undefined ? { file, line, text: part } : { file, line, text: part, noRun });
      }
    }
    open = index;
  }
  return commands;
}

type Plan = { kind: 'cli' | 'build' | 'server' | 'ci' | 'copy'; command: string } | { kind: 'unknown' };

const withFreePort = (text: string) =>
  /(?:^| )(?:--port|-p)(?:[ =]|$)/.test(text)
    ? text
    : text === 'npm start'
      ? `${text} -- --port 0`
      : `${text} --port 0`;

/**
 * How a docs command is run, or 'unknown' (which fails the test, naming file and line): the CLI through
 * the npm script (exit 0 or 1 with output; 2 is a usage or configuration error), a sandbox (it must print
 * its dicomweb URL and stop on Ctrl-C leaving no process; `--port 0` is added without a port), the build,
 * a copy of a tracked file to an untracked one under deploy/ (to edit, as docs/deployment.md makes), and
 * `npm ci` or `npm test`, not run here.
 */
function planOf(text: string): Plan {
  const cli = CLI_LINE.exec(text);
  if (cli !== null) {
    const args = (cli[1] ?? '').split(/\s+/);
    const server = args[0] === 'sandbox' && !args.includes('--help') && !args.includes('-h');
    return server ? { kind: 'server', command: withFreePort(text) } : { kind: 'cli', command: text };
  }
  if (START_LINE.test(text)) return { kind: 'server', command: withFreePort(text) };
  if (BUILD_LINE.test(text)) return { kind: 'build', command: text };
  if (COPY_LINE.test(text)) return { kind: 'copy', command: text };
  if (CI_LINE.test(text)) return { kind: 'ci', command: text };
  return { kind: 'unknown' };
}

// --- processes ----------------------------------------------------------------------------------

interface Result {
  code: number | null;
  out: string;
  err: string;
}

const GUARD = `import dns from 'node:dns';
import { isIP } from 'node:net';
// Preloaded by test/docs/printed-commands.test.ts: nothing the docs print may reach the internet.
const lookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  if (hostname === 'localhost' || isIP(hostname) !== 0) return lookup.call(this, hostname, options, callback);
  const done = typeof options === 'function' ? options : callback;
  const error = Object.assign(new Error('getaddrinfo ENOTFOUND ' + hostname + ' (the docs test allows loopback only)'), {
    code: 'ENOTFOUND',
    hostname,
  });
  process.nextTick(done, error);
};
`;

const CURL_STAND_IN = `#!/usr/bin/env node
// curl for test/docs/printed-commands.test.ts where there is none: the flags the sandbox banner uses.
import { readFileSync } from 'node:fs';
const args = process.argv.slice(2);
const headers = {};
const data = [];
let include = false, method, url, binary;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '-s' || arg === '--silent') continue;
  else if (arg === '-i' || arg === '--include') include = true;
  else if (arg === '-u' || arg === '--user') headers.authorization = 'Basic ' + Buffer.from(args[++i]).toString('base64');
  else if (arg === '-X' || arg === '--request') method = args[++i];
  else if (arg === '-H' || arg === '--header') {
    const header = args[++i];
    headers[header.slice(0, header.indexOf(':')).trim().toLowerCase()] = header.slice(header.indexOf(':') + 1).trim();
  } else if (arg === '-d' || arg === '--data') data.push(args[++i]);
  else if (arg === '--data-urlencode') {
    const value = args[++i];
    const eq = value.indexOf('=');
    data.push(eq < 0 ? encodeURIComponent(value) : value.slice(0, eq + 1) + encodeURIComponent(value.slice(eq + 1)));
  } else if (arg === '--data-binary') {
    const value = args[++i];
    binary = value.startsWith('@') ? readFileSync(value.slice(1)) : Buffer.from(value);
  } else if (arg.startsWith('-')) {
    process.stderr.write('curl stand-in: unsupported option ' + arg + '\\n');
    process.exit(2);
  } else url = arg;
}
let body = binary;
if (body === undefined && data.length > 0) {
  body = data.join('&');
  headers['content-type'] ??= 'application/x-www-form-urlencoded';
}
const response = await fetch(url, { method: method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
const text = await response.text();
if (include) {
  let head = 'HTTP/1.1 ' + response.status + ' ' + response.statusText + '\\r\\n';
  for (const [name, value] of response.headers) head += name + ': ' + value + '\\r\\n';
  process.stdout.write(head + '\\r\\n');
}
process.stdout.write(text);
`;

let work: string;
let clone: string;
let guardUrl: string;
let curlDir: string | undefined;
const groups = new Set<number>();

/** Members of a process group that are still running (zombies excluded). */
function liveMembers(pgid: number): number {
  const ps = spawnSync('ps', ['-eo', 'pgid=,stat='], { encoding: 'utf8' });
  if (ps.status !== 0) {
    try {
      process.kill(-pgid, 0);
      return 1;
    } catch {
      return 0;
    }
  }
  return ps.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([group, state]) => Number(group) === pgid && !(state ?? '').startsWith('Z')).length;
}

function killGroup(pgid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

async function waitUntil(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((done) => setTimeout(done, 100));
  }
  return true;
}

function environment(vars: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(npm_lifecycle_|npm_package_|npm_config_local_prefix$|INIT_CWD$)/.test(name),
    ),
  );
  const path = curlDir === undefined ? inherited['PATH'] : `${curlDir}${delimiter}${inherited['PATH'] ?? ''}`;
  return {
    ...inherited,
    ...vars,
    PATH: path,
    NO_COLOR: '1',
    npm_config_update_notifier: 'false',
    NODE_OPTIONS: [inherited['NODE_OPTIONS'], `--import=${guardUrl}`].filter(Boolean).join(' '),
  };
}

function spawnShell(command: string, vars: Record<string, string>): ChildProcess {
  const child = spawn('sh', ['-c', command], {
    cwd: clone,
    env: environment(vars),
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  groups.add(child.pid!);
  return child;
}

/** Runs a command to its end (killed after `ms`). */
function run(command: string, vars: Record<string, string>, ms = 60_000): Promise<Result> {
  const child = spawnShell(command, vars);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (err += text));
  // A command that never reads stdin (cp) may exit before the token is written: no EPIPE then.
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(vars['TOKEN'] === undefined ? '' : `${vars['TOKEN']}\n`);
  const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), ms);
  return new Promise((done) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup(child.pid!, 'SIGKILL'); // anything it left behind
      done({ code, out, err });
    }),
  );
}

interface Server {
  out(): string;
  /** Ctrl-C: SIGINT to the process group; true when every process of it ended within 15 s. */
  stop(): Promise<boolean>;
}

/** Starts a long-running command and waits until its stdout satisfies `ready`. */
async function start(command: string, vars: Record<string, string>, ready: (out: string) => boolean) {
  const child = spawnShell(command, vars);
  child.stdin!.end();
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (err += text));
  let exited = false;
  const closed = new Promise<void>((done) =>
    child.on('close', () => {
      exited = true;
      done();
    }),
  );
  const pgid = child.pid!;
  const server: Server = {
    out: () => out,
    stop: async () => {
      killGroup(pgid, 'SIGINT');
      const clean =
        (await Promise.race([
          closed.then(() => true),
          new Promise<boolean>((d) => setTimeout(() => d(false), 15_000)),
        ])) && (await waitUntil(() => liveMembers(pgid) === 0, 5_000));
      killGroup(pgid, 'SIGKILL');
      return clean;
    },
  };
  const isReady = await waitUntil(() => exited || ready(out), 60_000);
  if (!isReady || exited) {
    await server.stop();
    throw new Error(`${command} did not start:\n${out}\n${err}`);
  }
  return server;
}

/**
 * A dicom-reader token from the clone's sandbox (`sandbox --json`), which is stopped again. Docs
 * commands get it as TOKEN and on stdin.
 */
async function readerToken(): Promise<string> {
  const sandbox = await start('npm run -s ahi-authorizer -- sandbox --port 0 --json', {}, (out) =>
    out.includes('\n'),
  );
  try {
    const info = JSON.parse(sandbox.out().split('\n')[0] ?? '') as {
      tokenEndpoint: string;
      clients: { clientId: string; clientSecret: string; scope: string }[];
    };
    const reader = info.clients.find((client) => client.clientId === 'dicom-reader')!;
    const response = await fetch(info.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${reader.clientId}:${reader.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: reader.scope }),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  } finally {
    expect(await sandbox.stop()).toBe(true);
  }
}

async function trackedMarkdown(): Promise<{ file: string; text: string }[]> {
  const listed = spawnSync('git', ['-C', clone, 'ls-files', '*.md'], { encoding: 'utf8' });
  const files = listed.stdout.split('\n').filter((file) => file !== '' && !file.startsWith('test/'));
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(join(clone, file), 'utf8') })));
}

// --- the banner ---------------------------------------------------------------------------------

interface Step {
  comment: string;
  number?: number;
  commands: string[];
}

/**
 * The banner's commands: the lines after the one ending in "(paste into a shell):" up to the next blank
 * line, grouped under the `#` line that promises what they do. A `NAME=$(…)` command must yield a JWT
 * and is carried to the next ones; `repeat N` in a comment runs step N's curl commands again.
 */
function bannerSteps(out: string): Step[] {
  const lines = out.split('\n');
  const first = lines.findIndex((line) => /\(paste into a shell\):\s*$/.test(line));
  expect(first, 'the banner has no "(paste into a shell):" line').toBeGreaterThanOrEqual(0);
  const steps: Step[] = [];
  for (const line of lines.slice(first + 1)) {
    if (line.trim() === '') break;
    if (line.startsWith('#')) {
      const number = /^#\s*(\d+)\./.exec(line)?.[1];
      steps.push(
        number === undefined
          ? { comment: line, commands: [] }
          : { comment: line, number: Number(number), commands: [] },
      );
    } else if (steps.length === 0) {
      steps.push({ comment: '', commands: [line] });
    } else {
      steps.at(-1)!.commands.push(line);
    }
  }
  return steps;
}

function parseHttp(out: string): { status: number; headers: Map<string, string>; body: string } {
  let rest = out;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    const head = end < 0 ? rest : rest.slice(0, end);
    const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1] ?? Number.NaN);
    rest = end < 0 ? '' : rest.slice(end + 4);
    if (status === 100) continue;
    const headers = new Map(
      head
        .split('\r\n')
        .slice(1)
        .map((line) => [
          line.slice(0, line.indexOf(':')).trim().toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
    );
    return { status, headers, body: rest };
  }
}

/**
 * What a banner comment promises about a curl command's answer: the HTTP status it names (one is
 * required), each `x-…` header it names, the value of `x-authorizer-reason`, and each "quoted text".
 */
function checkPromise(comment: string, command: string, out: string) {
  const where = `${comment}\n${command}`;
  const answer = parseHttp(out);
  const status = /\b([1-5]\d\d)\b/.exec(comment)?.[1];
  expect(status, `no HTTP status promised for: ${where}`).toBeDefined();
  expect(answer.status, where).toBe(Number(status));
  for (const [, name] of comment.matchAll(/\b(x-[a-z-]+)\b/g)) {
    expect(answer.headers.get(name!), `${name} in the answer to: ${where}`).toBeTruthy();
  }
  const reason = /x-authorizer-reason: ([a-z_]+)/.exec(comment)?.[1];
  if (reason !== undefined) expect(answer.headers.get('x-authorizer-reason'), where).toBe(reason);
  for (const [, quoted] of comment.matchAll(/"([^"]+)"/g)) expect(answer.body, where).toContain(quoted);
}

// --- the tests ----------------------------------------------------------------------------------

describe('printed commands, from a fresh clone of HEAD', () => {
  beforeAll(async () => {
    const dirty = spawnSync('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    }).stdout;
    if (dirty.trim() !== '') console.warn(`printed-commands: uncommitted changes are not tested:\n${dirty}`);
    work = await mkdtemp(join(tmpdir(), 'ahi-printed-commands-'));
    clone = join(work, 'clone');
    const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone], {
      encoding: 'utf8',
    });
    if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
    await symlink(await realpath(join(REPO, 'node_modules')), join(clone, 'node_modules'), 'dir');
    await writeFile(join(work, 'guard.mjs'), GUARD);
    guardUrl = pathToFileURL(join(work, 'guard.mjs')).href;
    if (spawnSync('sh', ['-c', 'command -v curl']).status !== 0) {
      curlDir = join(work, 'bin');
      await mkdir(curlDir);
      await writeFile(join(curlDir, 'curl'), CURL_STAND_IN);
      await chmod(join(curlDir, 'curl'), 0o755);
    }
    const build = await run('npm run build', {}, 120_000);
    if (build.code !== 0) throw new Error(`npm run build failed in the clone:\n${build.out}\n${build.err}`);
  }, 180_000);

  afterAll(async () => {
    for (const pgid of groups) killGroup(pgid, 'SIGKILL');
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('reads sh blocks, no-run markers and continued lines as shCommands documents', () => {
    const markdown = [
      '```sh',
      '# a comment',
      'npm run -s ahi-authorizer -- check \\',
      '  --config c.json',
      '```',
      '<!-- no-run: needs an AWS account -->',
      '',
      '```bash',
      'npx cdk deploy',
      '```',
      '```json',
      '{"not": "a command"}',
      '```',
    ].join('\n');

    expect(shCommands('x.md', markdown)).toEqual([
      { file: 'x.md', line: 3, text: 'npm run -s ahi-authorizer -- check --config c.json' },
      { file: 'x.md', line: 9, text: 'npx cdk deploy', noRun: 'needs an AWS account' },
    ]);
    expect(planOf('npm start')).toEqual({ kind: 'server', command: 'npm start -- --port 0' });
    expect(planOf('npm run -s ahi-authorizer -- sandbox --json')).toEqual({
      kind: 'server',
      command: 'npm run -s ahi-authorizer -- sandbox --json --port 0',
    });
    expect(planOf('echo "$TOKEN" | npm run -s ahi-authorizer -- explain -c x').kind).toBe('cli');
    expect(planOf('npx ahi-authorizer explain -c x').kind).toBe('unknown');
    expect(planOf('cp deploy/example.config.json deploy/radiology.config.json').kind).toBe('copy');
    for (const outside of ['cp /etc/passwd deploy/x', 'cp a.json b.json', 'cp a.json deploy/../x']) {
      expect(planOf(outside).kind).toBe('unknown');
    }
  });

  it('builds an executable dist/cli.mjs with its shebang in the clone', async () => {
    const cli = join(clone, 'dist', 'cli.mjs');

    expect((await stat(cli)).mode & 0o777).toBe(0o755);
    expect((await readFile(cli, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
    const direct = await run('./dist/cli.mjs --version', {});
    expect(direct.code).toBe(0);
  });

  it('never prints npx ahi-authorizer in the docs', async () => {
    // Outside a clone, npx would run a registry package of that name.
    const offending = (await trackedMarkdown()).filter(({ text }) => text.includes('npx ahi-authorizer'));

    expect(offending.map(({ file }) => file)).toEqual([]);
  });

  it('runs every command of the sandbox banner with the outcome it promises', async () => {
    const sandbox = await start('npm start -- --port 0', {}, (out) =>
      /\(paste into a shell\):\n[\s\S]*?\n\n/.test(out),
    );
    let stopped = false;
    try {
      const steps = bannerSteps(sandbox.out());
      expect(steps.length, 'the banner prints no steps').toBeGreaterThan(0);
      expect(steps.flatMap((step) => step.commands).length, 'the banner prints no commands').toBeGreaterThan(
        0,
      );
      const vars: Record<string, string> = {};
      const ran: string[] = [];
      const runCurl = async (command: string, comment: string) => {
        const result = await run(command, vars, 20_000);
        expect(result.code, `${command}\n${result.err}`).toBe(0);
        checkPromise(comment, command, result.out);
      };
      for (const step of steps) {
        for (const command of step.commands) {
          const assignment = /^([A-Za-z_]\w*)=\$\(/.exec(command)?.[1];
          if (assignment !== undefined) {
            const result = await run(`${command}\nprintf '%s' "$${assignment}"`, vars, 20_000);
            expect(result.out, `${step.comment}\n${command}\n${result.err}`).toMatch(JWT);
            vars[assignment] = result.out;
            ran.push(command);
          } else if (command.startsWith('curl ')) {
            await runCurl(command, step.comment);
            ran.push(command);
          } else if (CLI_LINE.test(command)) {
            const result = await run(command, vars, 30_000);
            expect([0, 1], `${command}\n${result.err}`).toContain(result.code);
            for (const label of EXPLAIN_STEPS)
              expect(result.out).toMatch(new RegExp(`^ +\\[..\\] ${label} `, 'm'));
            expect(result.out).toMatch(/^ +\[ok\] signature /m);
            ran.push(command);
          } else {
            throw new Error(`a banner command this test does not know how to run: ${command}`);
          }
        }
        const repeat = /\brepeat (\d+)\b/.exec(step.comment)?.[1];
        if (repeat !== undefined) {
          const target = steps.find((other) => other.number === Number(repeat));
          expect(target, `step ${repeat}, repeated in: ${step.comment}`).toBeDefined();
          const curls = target!.commands.filter((command) => command.startsWith('curl '));
          expect(curls.length, `curl commands of step ${repeat}`).toBeGreaterThan(0);
          for (const command of curls) await runCurl(command, step.comment);
        }
      }
      expect(ran).toEqual(steps.flatMap((step) => step.commands));
      stopped = await sandbox.stop();
      expect(stopped, 'Ctrl-C stops the sandbox and every process it started').toBe(true);
    } finally {
      if (!stopped) await sandbox.stop();
    }
  }, 120_000);

  it("runs every command in the docs' sh blocks that is not in a no-run block", async () => {
    const commands = (await trackedMarkdown()).flatMap(({ file, text }) => shCommands(file, text));
    const toRun = commands.filter((command) => command.noRun === undefined);
    const unknown = toRun.filter((command) => planOf(command.text).kind === 'unknown');
    expect(
      unknown.map(({ file, line, text }) => `${file}:${line}: ${text}`),
      'commands neither runnable by this test nor in a <!-- no-run: reason --> block',
    ).toEqual([]);
    expect(toRun.length).toBeGreaterThan(0);

    const vars = { TOKEN: await readerToken() };
    const failures: string[] = [];
    for (const command of toRun) {
      const plan = planOf(command.text);
      const where = `${command.file}:${command.line}: ${command.text}`;
      if (plan.kind === 'copy') {
        const [, from, to] = COPY_LINE.exec(plan.command)!;
        const tracked = (path: string) =>
          spawnSync('git', ['-C', clone, 'ls-files', '--error-unmatch', path], { stdio: 'ignore' }).status ===
          0;
        const result = await run(plan.command, {});
        if (!tracked(from!) || tracked(to!) || result.code !== 0 || !existsSync(join(clone, to!))) {
          failures.push(
            `${where}: copies ${from} (tracked: ${tracked(from!)}) over ${to}: exit ${result.code}\n${result.err}`,
          );
        }
      } else if (plan.kind === 'server') {
        try {
          const server = await start(plan.command, vars, (out) => out.includes('dicomweb'));
          if (!(await server.stop())) failures.push(`${where}: processes left after Ctrl-C`);
        } catch (error) {
          failures.push(`${where}: ${String(error).slice(0, 2000)}`);
        }
      } else if (plan.kind !== 'unknown' && plan.kind !== 'ci') {
        const result = await run(plan.command, vars);
        const codes = plan.kind === 'build' ? [0] : [0, 1];
        if (!codes.includes(result.code ?? -1) || result.out.trim() === '') {
          failures.push(
            `${where}: exit ${result.code}\n${result.out.slice(0, 1000)}\n${result.err.slice(0, 1000)}`,
          );
        }
      }
    }
    expect(failures).toEqual([]);
  }, 180_000);
});
