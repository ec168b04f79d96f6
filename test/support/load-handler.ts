/**
 * Builds a fresh instance of the built Lambda code (dist/authorizer/authorizer.mjs, the modules
 * dist/handler.mjs bundles) with a given environment, as a cold start would, capturing every line it
 * writes. Each call is a new instance, so warm state never leaks between scenarios;
 * test/contract/cold-start.contract.test.ts runs dist/handler.mjs itself.
 */

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
  /** Every line written since load (init lines included). */
  readonly lines: string[];
  /** Parsed audit records (lines with message "authorization decision"). */
  decisions(): Record<string, unknown>[];
  /** The reason of the last decision. */
  lastReason(): string | undefined;
}

const FACTORY = pathToFileURL(resolve(import.meta.dirname, '../../dist/authorizer/authorizer.mjs')).href;
let instance = 0;

/** Every line any loaded handler wrote during this test file (for the log-hygiene checks). */
export const allLines: string[] = [];

interface Factory {
  createAuthorizer: (options: { env: Record<string, string | undefined>; write: (line: string) => void }) => {
    handler: (event: unknown, context: unknown) => Promise<AuthResult>;
    ready: Promise<void>;
  };
}

/** Variables the tests set per scenario: the rest of the test process's environment passes through. */
const AUTHORIZER_VARS = /^AUTHORIZER_/;

export async function loadHandler(env: Record<string, string>): Promise<LoadedHandler> {
  const { createAuthorizer } = (await import(FACTORY)) as Factory;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !AUTHORIZER_VARS.test(name)),
  );
  const lines: string[] = [];
  instance += 1;
  const authorizer = createAuthorizer({
    env: { ...inherited, ...env },
    write: (line) => {
      lines.push(line);
      allLines.push(line);
    },
  });
  await authorizer.ready;
  const decisions = () =>
    lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record['message'] === 'authorization decision');
  const requestId = `req-${instance}`;
  return {
    lines,
    decisions,
    lastReason: () => decisions().at(-1)?.['reason'] as string | undefined,
    invokeRaw: (event, context) => authorizer.handler(event, context),
    invoke: (event, context = {}) =>
      authorizer.handler(event, {
        awsRequestId: requestId,
        getRemainingTimeInMillis: () => 3000,
        ...context,
      }),
  };
}
