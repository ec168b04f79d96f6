/**
 * One bounded GET of a JSON document from an identity provider (discovery or JWKS). Every misbehaviour
 * becomes a closed failure cause, never an exception: redirects are not followed, bodies are streamed
 * under a byte cap, and the caller's signal bounds the whole exchange. Details never quote the body.
 * One test per misbehaviour: test/keys/fetch-json.test.ts.
 */

import type * as Http from 'node:http';
import type * as Https from 'node:https';
import { monotonicClock } from '../kernel/clock.ts';
import type { CaBundle } from './ca-bundle.ts';
import { raceSignal } from '../kernel/deadline.ts';
import type { Result } from '../kernel/result.ts';
import { type TlsFailureCause, tlsFailureDetail, tlsFailureOf } from './tls-failure.ts';
import { agentFor } from './tls-trust.ts';

/**
 * `tls`: the TLS session failed (an untrusted, expired or misnamed certificate, or no handshake);
 * `tlsCause` says which. `network`: everything else below HTTP (refused, unresolvable, reset).
 */
export type FetchFailureCause =
  'timeout' | 'status' | 'too_large' | 'invalid' | 'redirect' | 'tls' | 'network';

export type FetchOutcome = Result<
  { value: unknown; ms: number },
  {
    cause: FetchFailureCause;
    status?: number;
    retryAfterSeconds?: number;
    /** With cause `tls`: what failed (src/core/keys/tls-failure.ts). */
    tlsCause?: TlsFailureCause;
    /** With cause `tls`: Node's error code, e.g. SELF_SIGNED_CERT_IN_CHAIN. */
    tlsCode?: string;
    detail: string;
    ms: number;
  }
>;

export interface FetchJsonOptions {
  signal: AbortSignal;
  /** Cap on the (decoded) body; default 128 KiB, far above any real JWKS or discovery document. */
  maxBytes?: number;
  /** A Fetch API implementation to use instead of node:http(s) (tests, other runtimes). */
  fetch?: typeof globalThis.fetch;
  /**
   * A private CA bundle, trusted for https in addition to Node's default CAs (src/core/keys/tls-trust.ts).
   * Not used by an injected `fetch`, which brings its own TLS.
   */
  caBundle?: CaBundle;
}

export const DEFAULT_MAX_BODY_BYTES = 131_072;

type Failure = Omit<Extract<FetchOutcome, { ok: false }>, 'ms' | 'ok'>;

const fail = (cause: FetchFailureCause, detail: string, extra: Partial<Failure> = {}): Failure => ({
  cause,
  detail,
  ...extra,
});

export async function fetchJson(url: string, options: FetchJsonOptions): Promise<FetchOutcome> {
  const started = monotonicClock();
  const elapsed = () => Math.max(0, monotonicClock() - started);
  const { signal } = options;
  const timedOut = (): FetchOutcome => ({ ok: false, cause: 'timeout', detail: 'timed out', ms: elapsed() });
  if (signal.aborted) return timedOut();

  // raceSignal guarantees an answer when the signal aborts even if an injected fetch ignores it.
  const work = exchange(url, options).then(
    (result): FetchOutcome => {
      if (signal.aborted) return timedOut();
      return 'value' in result
        ? { ok: true, value: result.value, ms: elapsed() }
        : { ...result, ok: false, ms: elapsed() };
    },
    (): FetchOutcome =>
      signal.aborted ? timedOut() : { ok: false, ...networkFailure(undefined), ms: elapsed() },
  );
  return raceSignal(work, signal, timedOut);
}

/**
 * The little of an HTTP response we use. The default transport is node:http(s), not the global
 * fetch: constructing any Fetch API object loads undici, markedly slower on first use in a fresh
 * process than node:http — cold-start time inside HealthImaging's one second.
 */
interface RawResponse {
  status: number;
  header(name: string): string | undefined;
  /**
   * Hands each body chunk to `onChunk` until it returns false; settles when the body ends or is
   * abandoned, rejects when the body breaks off (a reset, a truncated message).
   */
  read(onChunk: (chunk: Uint8Array) => boolean): Promise<void>;
  discard(): void;
}

type Transport = (url: string, signal: AbortSignal, caBundle: CaBundle | undefined) => Promise<RawResponse>;

/**
 * node:http(s) GET. It never follows redirects, verifies TLS certificates, and aborts on the signal.
 * Cold-start details, each checked in a fresh process (`npm run bench` times cold starts):
 * - the module is loaded on first use with `process.getBuiltinModule`, synchronously, which spares
 *   the bundle `node:module`/`createRequire`, `import.meta` and dynamic `import()`;
 * - the abort is wired by hand: the `signal` request option pulls in Node's stream abort helpers
 *   (add-abort-signal, end-of-stream) on first use.
 * With a CA bundle, https requests go through that bundle's agent (default CAs plus the bundle);
 * certificate and host name checks stay on (rejectUnauthorized is never touched).
 */
const nodeTransport: Transport = async (url, signal, caBundle) => {
  const https = url.startsWith('https:');
  const { request } = process.getBuiltinModule(https ? 'node:https' : 'node:http') as typeof Https;
  const options: Https.RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
  if (https && caBundle !== undefined) options.agent = agentFor(caBundle);
  return new Promise<RawResponse>((resolve, reject) => {
    const req = request(url, options, (res) => {
      resolve({
        status: res.statusCode ?? 0,
        header: (name) => {
          const value = res.headers[name.toLowerCase()];
          return Array.isArray(value) ? value[0] : value;
        },
        read: (onChunk) => readStream(res, onChunk),
        discard: () => res.destroy(),
      });
    });
    const onAbort = () => req.destroy(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => signal.removeEventListener('abort', onAbort));
    req.on('error', reject);
    req.end();
  });
};

/**
 * Reads a node:http response with its events. `for await` over the stream costs a cold start more
 * (it loads the streams' async-iterator machinery on first use).
 */
function readStream(res: Http.IncomingMessage, onChunk: (chunk: Uint8Array) => boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      res.off('data', onData);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onData = (chunk: Buffer) => {
      if (!settled && !onChunk(chunk)) settle();
    };
    res.on('data', onData);
    res.once('end', () => settle());
    res.once('error', settle);
    // A connection that closes before the message is complete is an error, never a short body.
    res.once('close', () => settle(res.complete ? undefined : new Error('response closed early')));
  });
}

/** Adapts an injected Fetch API implementation (tests, other runtimes). */
const fetchTransport =
  (doFetch: typeof globalThis.fetch): Transport =>
  async (url, signal) => {
    // redirect:'manual' — a 3xx (possibly to another host) is never followed (RFC 8725 §3.10).
    const response = await doFetch(url, {
      method: 'GET',
      redirect: 'manual',
      signal,
      headers: { accept: 'application/json' },
    });
    // The Fetch API's body yields Uint8Array chunks; undici's types leave the stream untyped.
    const body: ReadableStream<Uint8Array> | null = response.body;
    return {
      // Browsers give an opaque redirect (status 0); Node's fetch hands back the real 3xx.
      status: response.type === 'opaqueredirect' ? 302 : response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      read: async (onChunk) => {
        if (!body) return;
        for await (const chunk of body) if (!onChunk(chunk)) return;
      },
      discard: () => {
        body?.cancel().catch(() => undefined);
      },
    };
  };

async function exchange(url: string, options: FetchJsonOptions): Promise<{ value: unknown } | Failure> {
  const { signal } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const transport = options.fetch ? fetchTransport(options.fetch) : nodeTransport;

  let response: RawResponse;
  try {
    response = await transport(url, signal, options.caBundle);
  } catch (error) {
    return signal.aborted ? fail('timeout', 'timed out') : networkFailure(error);
  }

  if (response.status >= 300 && response.status < 400) {
    response.discard();
    return fail('redirect', `redirect (HTTP ${response.status}) not followed`, { status: response.status });
  }
  if (response.status < 200 || response.status > 299) {
    response.discard();
    const retryAfterSeconds =
      response.status === 429 || response.status === 503
        ? parseRetryAfter(response.header('retry-after'))
        : undefined;
    return fail('status', `HTTP ${response.status}`, {
      status: response.status,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }

  const declared = response.header('content-length');
  if (declared !== undefined && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > maxBytes) {
    response.discard();
    return fail('too_large', `declared body exceeds ${maxBytes} bytes`);
  }

  const body = await readCapped(response, maxBytes, signal);
  if (!(body instanceof Uint8Array)) return body;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return fail('invalid', 'body is not UTF-8');
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return fail('invalid', 'body is not JSON'); // HTML error pages, captive portals
  }
}

/** Streams the body and stops as soon as the cap is passed, never buffering more. */
async function readCapped(
  response: RawResponse,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Uint8Array | Failure> {
  // Belt and braces for transports whose body ignores the signal (a trickling body).
  const onAbort = () => response.discard();
  signal.addEventListener('abort', onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  let tooLarge = false;
  try {
    await response.read((chunk) => {
      total += chunk.byteLength;
      if (total > maxBytes) {
        tooLarge = true;
        response.discard();
        return false;
      }
      chunks.push(chunk);
      return true;
    });
    if (tooLarge) return fail('too_large', `body exceeds ${maxBytes} bytes`);
  } catch (error) {
    if (signal.aborted) return fail('timeout', 'timed out');
    return networkFailure(error);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (signal.aborted) return fail('timeout', 'timed out');
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Only the delay-seconds form (RFC 9110 §10.2.3); an HTTP-date would need the wall clock. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^\d{1,9}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/**
 * A TLS failure with its cause, or else the system error code (ECONNREFUSED, ENOTFOUND …) when
 * there is one; never a message.
 */
function networkFailure(error: unknown): Failure {
  const tls = tlsFailureOf(error);
  if (tls !== undefined) {
    return fail('tls', tlsFailureDetail(tls), { tlsCause: tls.cause, tlsCode: tls.code });
  }
  const code = errorCode(error) ?? errorCode((error as { cause?: unknown } | undefined)?.cause);
  return fail('network', code === undefined ? 'request failed' : `request failed (${code})`);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}
