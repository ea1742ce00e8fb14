import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookReceiver {
  url: string;
  /** Every JSON body accepted (answered 200), in order. */
  received: Array<Record<string, unknown>>;
  /** Every POST that reached the server, refused ones included. */
  attempts: number;
  close(): Promise<void>;
}

export interface WebhookReceiverOptions {
  /** Answer the first this many POSTs with `failStatus` instead of accepting them. Default 0. */
  failFirst?: number;
  /** Default 500. */
  failStatus?: number;
  /** Listen on this port (one found free earlier, for a receiver that comes up late). Default any. */
  port?: number;
}

/** A local HTTP server standing in for a chat webhook: it records what the worker posts. */
export async function webhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    attempts: 0,
    close: async () => undefined,
  };
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      receiver.attempts += 1;
      if (receiver.attempts <= (options.failFirst ?? 0)) {
        response.statusCode = options.failStatus ?? 500;
        response.end('failing on purpose');
        return;
      }
      receiver.received.push(JSON.parse(body));
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** A port nothing listens on right now: a POST to it is refused until a receiver takes it. */
export async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
