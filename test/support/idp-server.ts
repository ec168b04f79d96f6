/**
 * A real HTTP server on 127.0.0.1 that plays an identity provider's discovery and JWKS endpoints,
 * with switchable misbehaviour (hang, status, delay, redirect, huge or broken bodies) and a hit
 * counter per path; HTTPS with the given certificate and key (test/support/certificates.ts). Tests
 * must `close()` it; close() also destroys hung and kept-alive sockets.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour =
  | { kind: 'json'; body: unknown; delayMs?: number; headers?: Record<string, string> }
  | {
      kind: 'raw';
      body: string | Buffer;
      status?: number;
      contentType?: string;
      delayMs?: number;
      headers?: Record<string, string>;
    }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'hang' }
  | { kind: 'trickle'; body: string; intervalMs: number; chunkBytes?: number }
  | { kind: 'redirect'; location: string; status?: number };

export interface IdpServerOptions {
  /** Serve HTTPS with this certificate chain (PEM, leaf first) and private key. */
  tls?: { cert: string; key: string };
}

export interface IdpServer {
  /** http://127.0.0.1:<port>, or https:// with `tls` */
  readonly url: string;
  /** Sets what `path` answers. */
  on(path: string, behaviour: Behaviour): void;
  hits(path: string): number;
  resetHits(): void;
  close(): Promise<void>;
}

export async function startIdpServer(options: IdpServerOptions = {}): Promise<IdpServer> {
  const routes = new Map<string, Behaviour>();
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const behaviour = routes.get(path);
    if (!behaviour) {
      res.writeHead(404).end('not found');
      return;
    }
    switch (behaviour.kind) {
      case 'json':
        later(behaviour.delayMs ?? 0, () =>
          res
            .writeHead(200, { 'content-type': 'application/json', ...behaviour.headers })
            .end(JSON.stringify(behaviour.body)),
        );
        return;
      case 'raw':
        later(behaviour.delayMs ?? 0, () =>
          res
            .writeHead(behaviour.status ?? 200, {
              'content-type': behaviour.contentType ?? 'application/json',
              ...behaviour.headers,
            })
            .end(behaviour.body),
        );
        return;
      case 'status':
        res.writeHead(behaviour.status, behaviour.headers).end(behaviour.body ?? '');
        return;
      case 'hang':
        return; // never answers; close() destroys the socket
      case 'trickle': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const bytes = Buffer.from(behaviour.body);
        const step = behaviour.chunkBytes ?? 1;
        let offset = 0;
        const tick = () => {
          if (res.destroyed) return;
          if (offset >= bytes.length) {
            res.end();
            return;
          }
          res.write(bytes.subarray(offset, offset + step));
          offset += step;
          later(behaviour.intervalMs, tick);
        };
        tick();
        return;
      }
      case 'redirect':
        res.writeHead(behaviour.status ?? 302, { location: behaviour.location }).end();
        return;
    }
  };

  const server: Server = options.tls ? createHttpsServer(options.tls, handle) : createServer(handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    on: (path, behaviour) => routes.set(path, behaviour),
    hits: (path) => counts.get(path) ?? 0,
    resetHits: () => counts.clear(),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
