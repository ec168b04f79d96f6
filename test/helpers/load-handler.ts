/**
 * Loads a fresh instance of the built Lambda bundle (dist/handler.mjs) with a given environment, as
 * Lambda would on a cold start, and captures every line it writes to stdout (through process.stdout or
 * straight to file descriptor 1, as the bundle's writer does). Each load gets its own
 * module instance (cache-busting query), so warm state never leaks between scenarios.
 */

import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface AuthResult {
  isTokenValid: boolean;
  roleArn: string;
}

export interface LoadedHandler {
  invoke(event: unknown, context?: Record<string, unknown>): Promise<AuthResult>;
  /** Passes the context exactly as given (no defaults), for malformed-context cases. */
  invokeRaw(event: unknown, context: unknown): Promise<AuthResult>;
  /** Every stdout line written since load (init lines included). */
  readonly lines: string[];
  /** Parsed audit records (lines with message "authorization decision"). */
  decisions(): Record<string, unknown>[];
  /** The reason of the last decision. */
  lastReason(): string | undefined;
}

const BUNDLE = pathToFileURL(resolve(import.meta.dirname, '../../dist/handler.mjs')).href;
let instance = 0;

/** Every line any loaded handler wrote during this test file (for the log-hygiene checks). */
export const allLines: string[] = [];

const originalWrite = process.stdout.write.bind(process.stdout);
const originalWriteSync = fs.writeSync;
const sinks = new Set<string[]>();
let patched = false;

function record(text: string): void {
  for (const line of text.split('\n').filter(Boolean)) {
    allLines.push(line);
    for (const s of sinks) s.push(line);
  }
}

function capture(sink: string[]): void {
  sinks.add(sink);
  if (patched) return;
  patched = true;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (sinks.size === 0) return (originalWrite as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    record(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  fs.writeSync = ((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    if (fd !== 1 || sinks.size === 0) {
      return (originalWriteSync as (...args: unknown[]) => number)(fd, data, ...rest);
    }
    const bytes =
      typeof data === 'string'
        ? Buffer.from(data)
        : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    record(bytes.toString('utf8'));
    return bytes.length;
  }) as typeof fs.writeSync;
  // The bundle's `import { writeSync } from 'node:fs'` is a live binding: make it see the patch.
  syncBuiltinESMExports();
}

export function stopCapture(): void {
  sinks.clear();
  process.stdout.write = originalWrite;
  fs.writeSync = originalWriteSync;
  syncBuiltinESMExports();
  patched = false;
}

const AUTHORIZER_VARS = [
  'AUTHORIZER_CONFIG',
  'AUTHORIZER_CONFIG_FILE',
  'AUTHORIZER_CONFIG_PARAMETER',
  'AUTHORIZER_BUDGET_MS',
  'AUTHORIZER_INIT_BUDGET_MS',
  'AUTHORIZER_ALLOWED_ROLE_ARNS',
  'AUTHORIZER_CONFIG_TTL_SECONDS',
];

export async function loadHandler(env: Record<string, string>): Promise<LoadedHandler> {
  const names = [...new Set([...AUTHORIZER_VARS, ...Object.keys(env)])];
  const saved = new Map(names.map((name) => [name, process.env[name]]));
  for (const name of AUTHORIZER_VARS) delete process.env[name];
  Object.assign(process.env, env);
  const lines: string[] = [];
  capture(lines);
  try {
    instance += 1;
    const mod = (await import(`${BUNDLE}?instance=${instance}`)) as {
      handler: (event: unknown, context: unknown) => Promise<AuthResult>;
    };
    const decisions = () =>
      lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((record) => record['message'] === 'authorization decision');
    return {
      lines,
      decisions,
      lastReason: () => decisions().at(-1)?.['reason'] as string | undefined,
      invokeRaw: (event, context) => mod.handler(event, context),
      invoke: (event, context = {}) =>
        mod.handler(event, {
          awsRequestId: `req-${instance}`,
          getRemainingTimeInMillis: () => 3000,
          ...context,
        }),
    };
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
