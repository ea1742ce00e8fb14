import http from 'node:http';
import { useCleanups } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { startDashboard } from '../src/index.js';
import { operator, testSetup } from './support/config.js';

const onClose = useCleanups();

it('fails to start, releasing Redis, when the port is taken', async () => {
  const setup = testSetup();
  onClose(() => setup.cleanup());
  const first = await startDashboard(setup.config, { announce: () => undefined });
  onClose(() => first.close());
  const second = startDashboard(
    { ...setup.config, dashboard: { ...setup.config.dashboard, port: first.port } },
    { announce: () => undefined },
  );
  await expect(second).rejects.toMatchObject({ code: 'EADDRINUSE' });
});

it('closes promptly with a browser-like keep-alive connection open, and close() may be called twice', async () => {
  const setup = testSetup();
  onClose(() => setup.cleanup());
  const dashboard = await startDashboard(setup.config, { announce: () => undefined, closeTimeoutMs: 2_000 });
  const agent = new http.Agent({ keepAlive: true });
  onClose(() => agent.destroy());
  const status = await new Promise<number | undefined>((resolve, reject) => {
    http
      .get(
        new URL('backups', dashboard.url),
        { agent, auth: `${operator.user}:${operator.password}` },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode));
        },
      )
      .on('error', reject);
  });
  expect(status).toBe(200);
  await Promise.all([dashboard.close(), dashboard.close()]);
  await expect(fetch(new URL('healthz', dashboard.url))).rejects.toThrow();
});
