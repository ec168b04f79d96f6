/**
 * A loopback HTTP server playing the SSM JSON 1.1 API for GetParameter, so a real SSMClient
 * (signing, serialisation, retries, timeouts) talks to something without the internet.
 * Tests must `close()` it; close() also destroys hung sockets.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SsmRequest {
  method: string;
  url: string;
  target: string | undefined;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

export type SsmBehaviour =
  | { kind: 'parameter'; value: string; version: number }
  | { kind: 'error'; status: number; type: string; message: string }
  | { kind: 'hang' };

export interface SsmServer {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly requests: SsmRequest[];
  answer(behaviour: SsmBehaviour): void;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

export async function startSsmServer(initial: SsmBehaviour): Promise<SsmServer> {
  let behaviour = initial;
  const requests: SsmRequest[] = [];
  const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      target: request.headers['x-amz-target'] as string | undefined,
      contentType: request.headers['content-type'],
      authorization: request.headers.authorization,
      body,
    });
    if (behaviour.kind === 'hang') return;
    const name = (body as { Name?: string } | undefined)?.Name;
    const [status, payload] =
      behaviour.kind === 'parameter'
        ? [
            200,
            { Parameter: { Name: name, Type: 'String', Value: behaviour.value, Version: behaviour.version } },
          ]
        : [behaviour.status, { __type: behaviour.type, message: behaviour.message }];
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    response.end(JSON.stringify(payload));
  };
  // A request this server cannot answer is a bug in the test: its rejection is left unhandled, so
  // vitest reports it.
  const server = createServer((request, response) => void answer(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    answer(next) {
      behaviour = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Client settings for the loopback server: static fake credentials, a fixed region. */
export function loopbackClientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  };
}
