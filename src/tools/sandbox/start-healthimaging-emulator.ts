/**
 * A local HealthImaging-shaped DICOMweb endpoint that emulates the authorization gate, not the
 * storage: it maps the request to an operation, runs HealthImaging's pre-checks, invokes the
 * authorizer with the exact AHI event under a 1 s limit and answers as HealthImaging does
 * (https://docs.aws.amazon.com/healthimaging/latest/devguide/dicomweb-oidc-lambda.html), saying why
 * in `x-authorizer-*` headers. Loopback only.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, monotonicClock } from '../../core/kernel/clock.ts';
import type { AuthInput } from '../../core/contract/healthimaging.ts';
import { healthImagingOutcome, INVALID_TOKEN_MESSAGE } from '../cli/shared/healthimaging-outcome.ts';
import { precheckTokenTimes } from './precheck-token-times.ts';
import { routeDicomweb } from './route-dicomweb.ts';
import type { InvokeOutcome } from './start-handler-process.ts';

/** HealthImaging's limit for the authorizer (AHI developer guide: "must respond within 1 second"). */
export const AUTHORIZER_LIMIT_MS = 1_000;

export interface EmulatorRequestLog {
  method: string;
  path: string;
  operation?: string;
  status: number;
  message: string;
  /** The authorizer's reason code, from its audit line. */
  reason?: string;
  /** The rule that decided, from the audit line. */
  rule?: string;
  roleArn?: string;
  ms: number;
}

export interface HealthImagingEmulatorOptions {
  /** 0 picks a free port. */
  port: number;
  invoke(event: AuthInput, limitMs: number): Promise<InvokeOutcome>;
  /** For the pre-checks. */
  now: Clock;
  limitMs?: number;
  onRequest?: (entry: EmulatorRequestLog) => void;
}

/** A request as the emulator reads it: method, path (a query is ignored), Authorization header. */
export interface EmulatorRequest {
  method: string;
  url: string;
  authorization?: string;
}

export interface HealthImagingEmulator {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /**
   * Answers one request exactly as the HTTP endpoint does (same routing, pre-checks, handler
   * invocation and mapping), without a socket and without logging it: the sandbox decides the
   * banner's examples with this before it prints them.
   */
  answer(request: EmulatorRequest): Promise<EmulatorAnswer>;
  close(): Promise<void>;
}

export interface EmulatorAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  log: Omit<EmulatorRequestLog, 'method' | 'path' | 'ms'>;
}

const BEARER = /^Bearer +([^\s]+) *$/i;

type Answer = EmulatorAnswer;

async function decide(req: EmulatorRequest, options: HealthImagingEmulatorOptions): Promise<Answer> {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  const route = routeDicomweb(req.method, path);
  if (!route.ok) {
    return {
      status: route.status,
      body: { message: route.message },
      headers: {},
      log: { status: route.status, message: route.message },
    };
  }
  const { operation, datastoreId } = route;
  const bearer = BEARER.exec(req.authorization ?? '');
  const bearerToken = bearer?.[1];
  if (bearerToken === undefined) {
    // AHI: without an "Authorization: Bearer" header the request goes to SigV4, which we do not emulate.
    const message = 'Missing Authentication Token';
    return {
      status: 403,
      body: {
        message,
        sandbox: 'send Authorization: Bearer <access token> (without it HealthImaging expects SigV4)',
      },
      headers: {},
      log: { operation, status: 403, message },
    };
  }
  const precheck = precheckTokenTimes(bearerToken, options.now());
  if (!precheck.ok) {
    return {
      status: 403,
      body: { message: INVALID_TOKEN_MESSAGE },
      headers: { 'x-healthimaging-precheck': precheck.detail },
      log: { operation, status: 403, message: `${INVALID_TOKEN_MESSAGE} (pre-check: ${precheck.detail})` },
    };
  }

  const limitMs = options.limitMs ?? AUTHORIZER_LIMIT_MS;
  const outcome = await options.invoke({ datastoreId, operation, bearerToken }, limitMs);
  const latency = { 'x-authorizer-latency-ms': String(Math.round(outcome.ms)) };
  if (outcome.kind === 'timeout') {
    const message = `the Lambda authorizer did not answer within ${limitMs} ms`;
    return { status: 408, body: { message }, headers: latency, log: { operation, status: 408, message } };
  }
  if (outcome.kind === 'error') {
    const message = 'the Lambda authorizer failed';
    return {
      status: 424,
      body: { message, sandbox: outcome.detail },
      headers: latency,
      log: { operation, status: 424, message: `${message}: ${outcome.detail}` },
    };
  }
  const mapped = healthImagingOutcome(outcome.answer);
  const headers: Record<string, string> = { ...latency };
  if (outcome.reason !== undefined) headers['x-authorizer-reason'] = outcome.reason;
  const log: Answer['log'] = { operation, status: mapped.status, message: mapped.message };
  if (outcome.reason !== undefined) log.reason = outcome.reason;
  if (outcome.rule !== undefined) log.rule = outcome.rule;
  if (mapped.status !== 200 || mapped.roleArn === undefined) {
    return { status: mapped.status, body: { message: mapped.message }, headers, log };
  }
  headers['x-authorizer-role'] = mapped.roleArn;
  log.roleArn = mapped.roleArn;
  return {
    status: 200,
    body: {
      operation,
      datastoreId,
      roleArn: mapped.roleArn,
      sandbox: `authorized: HealthImaging would now run ${operation} as ${mapped.roleArn} (the sandbox stores no images)`,
    },
    headers,
    log,
  };
}

export async function startHealthImagingEmulator(
  options: HealthImagingEmulatorOptions,
): Promise<HealthImagingEmulator> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const started = monotonicClock();
    req.resume(); // STOW-RS bodies are read and dropped: the gate is what is emulated
    const request: EmulatorRequest = { method: req.method ?? 'GET', url: req.url ?? '/' };
    if (req.headers.authorization !== undefined) request.authorization = req.headers.authorization;
    // Fire and forget: decide's failures become a 500 answer just below, and what is left (writing
    // the answer, onRequest) does not await anything.
    void decide(request, options)
      .catch((): Answer => ({
        status: 500,
        body: { message: 'sandbox error' },
        headers: {},
        log: { status: 500, message: 'sandbox error' },
      }))
      .then((answer) => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(`${JSON.stringify(answer.body)}\n`);
        const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
        options.onRequest?.({
          method: req.method ?? 'GET',
          path,
          ms: monotonicClock() - started,
          ...answer.log,
        });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    answer: (request) => decide(request, options),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
