/**
 * fetchJson against a real loopback server: every IdP misbehaviour (hang, trickle, redirect, HTML
 * page, oversized body, refused connection) becomes a closed failure cause, within the caller's
 * signal.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchJson } from '../../src/core/keys/fetch-json.ts';
import { type IdpServer, startIdpServer } from '../support/idp-server.ts';

let server: IdpServer;

beforeEach(async () => {
  server = await startIdpServer();
});

afterEach(async () => {
  await server.close();
});

const withinSeconds = (seconds: number) => AbortSignal.timeout(seconds * 1000);

describe('fetchJson', () => {
  it('returns the parsed document on a 200 JSON answer', async () => {
    // Arrange
    server.on('/doc', { kind: 'json', body: { keys: [{ kid: 'a' }] } });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: withinSeconds(5) });

    // Assert
    expect(outcome).toMatchObject({ ok: true, value: { keys: [{ kid: 'a' }] } });
    expect(outcome.ms).toBeGreaterThanOrEqual(0);
  });

  it('asks for JSON and never follows redirects automatically', async () => {
    // Arrange
    server.on('/doc', { kind: 'json', body: {} });
    const seen: RequestInit[] = [];
    const recording: typeof fetch = (input, init) => {
      seen.push(init ?? {});
      return fetch(input, init);
    };

    // Act
    await fetchJson(`${server.url}/doc`, { signal: withinSeconds(5), fetch: recording });

    // Assert
    expect(seen).toHaveLength(1);
    expect(new Headers(seen[0]?.headers).get('accept')).toBe('application/json');
    expect(seen[0]?.redirect).toBe('manual');
  });

  it('fails with redirect on a 302 and never requests the target', async () => {
    // Arrange
    server.on('/doc', { kind: 'redirect', location: `${server.url}/elsewhere` });
    server.on('/elsewhere', { kind: 'json', body: { keys: [] } });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: withinSeconds(5) });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'redirect', status: 302 });
    expect(server.hits('/elsewhere')).toBe(0);
  });

  it('fails with status and the Retry-After seconds on a 503', async () => {
    // Arrange
    server.on('/doc', { kind: 'status', status: 503, headers: { 'retry-after': '7' }, body: 'down' });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: withinSeconds(5) });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'status', status: 503, retryAfterSeconds: 7 });
  });

  it('parses Retry-After seconds on a 429', async () => {
    // Arrange
    server.on('/doc', { kind: 'status', status: 429, headers: { 'retry-after': ' 120 ' } });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: withinSeconds(5) });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'status', status: 429, retryAfterSeconds: 120 });
  });

  it('ignores a Retry-After that is an HTTP date or on another status', async () => {
    // Arrange
    server.on('/date', {
      kind: 'status',
      status: 503,
      headers: { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' },
    });
    server.on('/500', { kind: 'status', status: 500, headers: { 'retry-after': '9' } });

    // Act
    const date = await fetchJson(`${server.url}/date`, { signal: withinSeconds(5) });
    const other = await fetchJson(`${server.url}/500`, { signal: withinSeconds(5) });

    // Assert
    expect(date).toMatchObject({ ok: false, cause: 'status', status: 503 });
    expect(date).not.toHaveProperty('retryAfterSeconds');
    expect(other).toMatchObject({ ok: false, cause: 'status', status: 500 });
    expect(other).not.toHaveProperty('retryAfterSeconds');
  });

  it('fails with invalid on an HTML page and never quotes the body', async () => {
    // Arrange
    server.on('/doc', {
      kind: 'raw',
      body: '<html>captive portal secret-marker</html>',
      contentType: 'text/html',
    });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: withinSeconds(5) });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'invalid' });
    expect(JSON.stringify(outcome)).not.toContain('secret-marker');
  });

  it('fails with invalid on truncated JSON', async () => {
    // Arrange
    server.on('/doc', { kind: 'raw', body: '{"keys": [' });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: withinSeconds(5) });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'invalid' });
  });

  it('fails with invalid on a body that is not UTF-8', async () => {
    // Arrange
    server.on('/doc', { kind: 'raw', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: withinSeconds(5) });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'invalid' });
  });

  it('fails with too_large when Content-Length is over the cap', async () => {
    // Arrange
    server.on('/doc', { kind: 'raw', body: Buffer.alloc(5 * 1024 * 1024, 0x20) });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: withinSeconds(5) });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'too_large' });
  });

  it('fails with too_large when a chunked body without Content-Length passes the cap', async () => {
    // Arrange: the trickle behaviour streams chunked, so only the streaming cap can stop it.
    server.on('/doc', { kind: 'trickle', body: ' '.repeat(64 * 1024), intervalMs: 1, chunkBytes: 4096 });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: withinSeconds(10), maxBytes: 10_000 });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'too_large' });
  });

  it('accepts a body exactly at the cap', async () => {
    // Arrange
    const body = JSON.stringify({ pad: 'x'.repeat(100) });
    server.on('/doc', { kind: 'raw', body });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: withinSeconds(5), maxBytes: body.length });

    // Assert
    expect(outcome.ok).toBe(true);
  });

  it('fails with timeout when the server never answers', async () => {
    // Arrange
    server.on('/doc', { kind: 'hang' });
    const started = performance.now();

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: AbortSignal.timeout(200) });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('fails with timeout when the body trickles past the signal', async () => {
    // Arrange
    server.on('/doc', {
      kind: 'trickle',
      body: JSON.stringify({ keys: [] }).padEnd(400, ' '),
      intervalMs: 50,
    });
    const started = performance.now();

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: AbortSignal.timeout(200) });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('answers timeout when the signal aborts even if the injected fetch ignores it', async () => {
    // Arrange
    const deaf: typeof fetch = () => new Promise<Response>(() => undefined);

    // Act
    const outcome = await fetchJson('https://idp.example/doc', {
      signal: AbortSignal.timeout(50),
      fetch: deaf,
    });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'timeout' });
  });

  it('does no I/O when the signal is already aborted', async () => {
    // Arrange
    server.on('/doc', { kind: 'json', body: {} });

    // Act
    const outcome = await fetchJson(`${server.url}/doc`, { signal: AbortSignal.abort() });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'timeout' });
    expect(server.hits('/doc')).toBe(0);
  });

  it('fails with network when the connection is refused', async () => {
    // Arrange
    const url = `${server.url}/doc`;
    await server.close();
    server = await startIdpServer(); // afterEach closes this one

    // Act
    const outcome = await fetchJson(url, { signal: withinSeconds(5) });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'network' });
    expect(outcome.ok === false && outcome.detail).toContain('ECONNREFUSED');
  });

  it('fails with network when the connection drops mid-body, even if what arrived parses', async () => {
    // Arrange: Content-Length promises more than is sent; the prefix alone is valid JSON.
    const cut = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      res.write('{"keys":[]}', () => res.socket?.destroy());
    });
    await new Promise<void>((done) => cut.listen(0, '127.0.0.1', done));
    const { port } = cut.address() as AddressInfo;

    try {
      // Act
      const outcome = await fetchJson(`http://127.0.0.1:${port}/doc`, { signal: withinSeconds(5) });

      // Assert
      expect(outcome).toMatchObject({ ok: false, cause: 'network' });
    } finally {
      cut.closeAllConnections();
      await new Promise<void>((done) => cut.close(() => done()));
    }
  });

  it('fails with network when the injected fetch throws synchronously', async () => {
    // Arrange
    const broken: typeof fetch = () => {
      throw new TypeError('boom');
    };

    // Act
    const outcome = await fetchJson('https://idp.example/doc', { signal: withinSeconds(5), fetch: broken });

    // Assert
    expect(outcome).toMatchObject({ ok: false, cause: 'network' });
  });
});
