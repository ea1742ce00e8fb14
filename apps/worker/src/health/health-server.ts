import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** `live`: the process works (for a liveness probe); `ready`: it can also do its jobs. */
export type HealthKind = 'live' | 'ready';

/**
 * Health for container checks: 200 when every check passes, 503 otherwise, with the checks as JSON.
 * `/healthz` and `/readyz` tell whether this worker can work (Redis reachable, worker running,
 * backup and log directories writable); `/livez` leaves the directories out, so that a liveness
 * probe does not restart a worker for a directory only an operator can fix. Whether backups
 * succeed is the stale alert's and `backupctl status`'s job.
 */
export async function startHealthServer(
  host: string,
  port: number,
  report: (kind: HealthKind) => Promise<HealthReport>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const url = request.url ?? '';
    if (request.method !== 'GET' || !['/healthz', '/readyz', '/livez'].includes(url)) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    report(url === '/livez' ? 'live' : 'ready')
      .then((result) => {
        response
          .writeHead(result.ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify(result));
      })
      .catch((error: Error) => {
        response
          .writeHead(503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ok: false, error: error.message }));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
