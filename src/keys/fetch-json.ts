/**
 * One bounded GET of a JSON document from an identity provider (discovery or JWKS). Every way the
 * IdP can misbehave becomes a closed failure cause instead of an exception: redirects are never
 * followed (F5), bodies are streamed under a byte cap (F8), and the caller's signal bounds the whole
 * exchange including a trickling body (F1, F2). Details never quote the response body.
 */

import { monotonicClock } from '../clock.ts';
import { raceSignal } from './deadline.ts';

export type FetchFailureCause = 'timeout' | 'status' | 'too_large' | 'invalid' | 'redirect' | 'network';

export type FetchOutcome =
  | { ok: true; value: unknown; ms: number }
  | {
      ok: false;
      cause: FetchFailureCause;
      status?: number;
      retryAfterSeconds?: number;
      detail: string;
      ms: number;
    };

export interface FetchJsonOptions {
  signal: AbortSignal;
  /** Cap on the (decoded) body; default 128 KiB, far above any real JWKS or discovery document. */
  maxBytes?: number;
  fetch?: typeof globalThis.fetch;
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

async function exchange(url: string, options: FetchJsonOptions): Promise<{ value: unknown } | Failure> {
  const { signal } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const doFetch = options.fetch ?? globalThis.fetch;

  let response: Response;
  try {
    // redirect:'manual' — a 3xx (possibly to another host) is never followed (F5, RFC 8725 §3.10).
    response = await doFetch(url, {
      method: 'GET',
      redirect: 'manual',
      signal,
      headers: { accept: 'application/json' },
    });
  } catch (error) {
    return networkFailure(error);
  }

  // Node's fetch hands back the real 3xx response with redirect:'manual'; browsers give an opaque one.
  if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
    discard(response);
    return fail('redirect', `redirect (HTTP ${response.status}) not followed`, { status: response.status });
  }
  if (response.status < 200 || response.status > 299) {
    discard(response);
    const retryAfterSeconds =
      response.status === 429 || response.status === 503
        ? parseRetryAfter(response.headers.get('retry-after'))
        : undefined;
    return fail('status', `HTTP ${response.status}`, {
      status: response.status,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }

  const declared = response.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > maxBytes) {
    discard(response);
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
    return fail('invalid', 'body is not JSON'); // F6: HTML error pages, captive portals
  }
}

/** Streams the body and cancels the reader as soon as the cap is passed (F8), never buffering more. */
async function readCapped(
  response: Response,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Uint8Array | Failure> {
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  // Belt and braces for fetch implementations whose body stream ignores the signal (F2).
  const onAbort = () => {
    reader.cancel().catch(() => undefined);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        reader.cancel().catch(() => undefined);
        return fail('too_large', `body exceeds ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
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
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (!/^\d{1,9}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/** Names the system error code (ECONNREFUSED, ENOTFOUND …) when there is one; never a message. */
function networkFailure(error: unknown): Failure {
  const code = errorCode(error) ?? errorCode((error as { cause?: unknown } | undefined)?.cause);
  return fail('network', code === undefined ? 'request failed' : `request failed (${code})`);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}

function discard(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}
