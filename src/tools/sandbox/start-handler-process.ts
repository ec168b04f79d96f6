/**
 * Runs the built Lambda code in a child Node.js process, as one Lambda instance with its own module
 * state, environment and output, served by a small inline host over IPC. A crashed child fails its
 * pending invocations and restarts on the next (a new cold start); the caller's limit turns hangs
 * into timeouts.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { monotonicClock } from '../../core/kernel/clock.ts';

export type InvokeOutcome =
  | { kind: 'answer'; answer: unknown; reason?: string; rule?: string; ms: number }
  | { kind: 'timeout'; ms: number }
  | { kind: 'error'; detail: string; ms: number };

export interface HandlerProcessOptions {
  /** The bundle: an ES module exporting `createAuthorizer` (the authorizer) or `handler` (any other). */
  handlerPath: string;
  /** The child's whole environment (the sandbox builds it; nothing else is inherited). */
  env: Readonly<Record<string, string | undefined>>;
  /** The Lambda function timeout the context reports (not HealthImaging's 1 s); default 3 000. */
  functionTimeoutMs?: number;
  /**
   * Every line the handler writes to stdout (audit lines included), and its stderr lines; `json` is a
   * stdout line parsed as JSON, undefined when it is not JSON (and for stderr).
   */
  onLine?: (line: string, stream: 'stdout' | 'stderr', json?: unknown) => void;
  /** How long the child may take to import the bundle and run its init; default 15 000. */
  startTimeoutMs?: number;
}

export interface HandlerProcess {
  /** Starts the child now (otherwise the first invoke does); rejects if the bundle fails to load. */
  start(): Promise<void>;
  /** Never rejects. Resolves `timeout` after `limitMs` (the invocation may still finish later: ignored). */
  invoke(event: unknown, limitMs: number): Promise<InvokeOutcome>;
  /** The child's pid, while it runs. */
  pid(): number | undefined;
  close(): Promise<void>;
}

/**
 * The host program the child runs (`node --input-type=module -e HOST <bundle URL>`): plain
 * JavaScript, so it needs no file of its own next to the bundle. For the authorizer's factory bundle
 * (`createAuthorizer`) it injects a log writer that sends each line over IPC, so an invocation's
 * audit line arrives before its answer; a `handler` bundle's stdout is forwarded the same way.
 */
const HOST = `
const bundle = process.argv[1];
const send = (message) => { if (process.connected) process.send(message); };
const sendLine = (line) => send({ type: 'line', line });
// Lines a plain handler prints (console.log) travel in order with its answers too.
process.stdout.write = (chunk, encoding, callback) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  for (const line of text.split('\\n')) if (line !== '') sendLine(line);
  const done = typeof encoding === 'function' ? encoding : callback;
  if (typeof done === 'function') done();
  return true;
};
process.on('disconnect', () => process.exit(0));
const fail = (detail) => {
  if (process.connected) process.send({ type: 'init_error', detail }, () => process.exit(1));
  else process.exit(1);
};
let handler;
try {
  const mod = await import(bundle);
  if (typeof mod.createAuthorizer === 'function') {
    const authorizer = mod.createAuthorizer({ env: process.env, write: sendLine });
    await authorizer.ready;
    handler = authorizer.handler;
  } else if (typeof mod.handler === 'function') {
    handler = mod.handler;
  } else {
    fail('the bundle exports neither createAuthorizer nor a handler function');
  }
} catch (error) {
  fail(error instanceof Error ? error.name + ': ' + error.message : 'import failed');
}
if (handler === undefined) await new Promise(() => {});
send({ type: 'ready' });
process.on('message', async (message) => {
  if (!message || message.type !== 'invoke') return;
  const started = Date.now();
  const context = {
    awsRequestId: message.id,
    functionName: 'ahi-authorizer-sandbox',
    getRemainingTimeInMillis: () => Math.max(0, message.functionTimeoutMs - (Date.now() - started)),
  };
  try {
    const answer = await handler(message.event, context);
    send({ type: 'answer', id: message.id, answer: answer === undefined ? null : answer });
  } catch (error) {
    send({ type: 'error', id: message.id, detail: error instanceof Error ? error.name : 'non-error thrown' });
  }
});
`;

interface Pending {
  resolve(outcome: InvokeOutcome): void;
  startedAt: number;
  reason?: string;
  rule?: string;
  timer: NodeJS.Timeout;
}

type HostMessage =
  | { type: 'line'; line: string }
  | { type: 'ready' }
  | { type: 'init_error'; detail: string }
  | { type: 'answer'; id: string; answer: unknown }
  | { type: 'error'; id: string; detail: string };

function isHostMessage(value: unknown): value is HostMessage {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}

/** A line parsed as JSON, or undefined when it is not JSON (an ordinary line). */
function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

/** The request id, reason and deciding rule of an audit line (given parsed), if it is one. */
function auditFacts(
  line: string,
  json: unknown,
): { requestId: string; reason: string; rule?: string } | undefined {
  if (!line.startsWith('{') || typeof json !== 'object' || json === null) return undefined;
  const { message, requestId, reason, rule } = json as Record<string, unknown>;
  if (message === 'authorization decision' && typeof requestId === 'string' && typeof reason === 'string') {
    return typeof rule === 'string' ? { requestId, reason, rule } : { requestId, reason };
  }
  return undefined;
}

export function startHandlerProcess(options: HandlerProcessOptions): HandlerProcess {
  const functionTimeoutMs = options.functionTimeoutMs ?? 3_000;
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const pending = new Map<string, Pending>();
  let child: ChildProcess | undefined;
  let ready: Promise<void> | undefined;
  let closed = false;
  let sequence = 0;

  const settle = (id: string, outcome: InvokeOutcome) => {
    const entry = pending.get(id);
    if (entry === undefined) return; // already timed out: a late answer is ignored, like AHI would
    pending.delete(id);
    clearTimeout(entry.timer);
    entry.resolve(outcome);
  };

  const failAll = (detail: string) => {
    for (const [id, entry] of pending) {
      settle(id, { kind: 'error', detail, ms: monotonicClock() - entry.startedAt });
    }
  };

  const emitLines = (text: string, stream: 'stdout' | 'stderr') => {
    const onLine = options.onLine;
    if (onLine === undefined) return;
    for (const line of text.split('\n')) {
      if (line !== '') onLine(line, stream, stream === 'stdout' ? parseLine(line) : undefined);
    }
  };

  function spawnChild(): Promise<void> {
    const bundleUrl = pathToFileURL(options.handlerPath).href;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.env)) if (value !== undefined) env[name] = value;
    const process_ = spawn(process.execPath, ['--input-type=module', '-e', HOST, bundleUrl], {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child = process_;
    process_.stdout?.setEncoding('utf8').on('data', (text: string) => emitLines(text, 'stdout'));
    process_.stderr?.setEncoding('utf8').on('data', (text: string) => emitLines(text, 'stderr'));

    return new Promise<void>((resolve, reject) => {
      let started = false;
      const startTimer = setTimeout(() => {
        if (!started) {
          reject(new Error(`the handler did not finish its init within ${startTimeoutMs} ms`));
          process_.kill('SIGKILL');
        }
      }, startTimeoutMs);
      process_.on('message', (message: unknown) => {
        if (!isHostMessage(message)) return;
        switch (message.type) {
          case 'line': {
            const json = parseLine(message.line);
            const facts = auditFacts(message.line, json);
            if (facts) {
              const entry = pending.get(facts.requestId);
              if (entry) {
                entry.reason = facts.reason;
                if (facts.rule !== undefined) entry.rule = facts.rule;
              }
            }
            options.onLine?.(message.line, 'stdout', json);
            return;
          }
          case 'ready':
            started = true;
            clearTimeout(startTimer);
            resolve();
            return;
          case 'init_error':
            clearTimeout(startTimer);
            reject(new Error(`the handler bundle failed to load: ${message.detail}`));
            return;
          case 'answer': {
            const entry = pending.get(message.id);
            if (entry === undefined) return;
            const outcome: InvokeOutcome = {
              kind: 'answer',
              answer: message.answer,
              ms: monotonicClock() - entry.startedAt,
            };
            if (entry.reason !== undefined) outcome.reason = entry.reason;
            if (entry.rule !== undefined) outcome.rule = entry.rule;
            settle(message.id, outcome);
            return;
          }
          case 'error': {
            const entry = pending.get(message.id);
            if (entry)
              settle(message.id, {
                kind: 'error',
                detail: `the handler threw (${message.detail})`,
                ms: monotonicClock() - entry.startedAt,
              });
            return;
          }
        }
      });
      process_.on('error', (error) => {
        clearTimeout(startTimer);
        reject(error);
      });
      process_.on('exit', (code, signal) => {
        clearTimeout(startTimer);
        if (child === process_) {
          child = undefined;
          ready = undefined;
        }
        if (!started)
          reject(new Error(`the handler process exited during init (${signal ?? `code ${code}`})`));
        failAll(`the handler process exited (${signal ?? `code ${code}`})`);
      });
    });
  }

  const start = (): Promise<void> => {
    if (closed) return Promise.reject(new Error('the handler process is closed'));
    ready ??= spawnChild();
    return ready;
  };

  return {
    start,

    invoke(event, limitMs) {
      sequence += 1;
      const id = `sandbox-${process.pid}-${sequence}`;
      const startedAt = monotonicClock();
      return new Promise<InvokeOutcome>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve({ kind: 'timeout', ms: monotonicClock() - startedAt });
        }, limitMs);
        pending.set(id, { resolve, startedAt, timer });
        // A cold start (first invoke, or after a crash) counts against the limit, as in Lambda.
        start().then(
          () => {
            if (!pending.has(id)) return;
            const unreachable = () =>
              settle(id, {
                kind: 'error',
                detail: 'could not reach the handler process',
                ms: monotonicClock() - startedAt,
              });
            try {
              child?.send({ type: 'invoke', id, event, functionTimeoutMs }, (error) => {
                if (error) unreachable();
              });
            } catch {
              unreachable();
            }
          },
          (error: unknown) =>
            settle(id, {
              kind: 'error',
              detail: error instanceof Error ? error.message : 'the handler process failed to start',
              ms: monotonicClock() - startedAt,
            }),
        );
      });
    },

    pid: () => child?.pid,

    async close() {
      closed = true;
      failAll('the sandbox is shutting down');
      const running = child;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      // Closing the IPC channel makes the host exit; SIGKILL if it does not within 2 s.
      if (running.connected) running.disconnect();
      else running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
