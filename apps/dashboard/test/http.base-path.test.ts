import { useCleanups } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { startDashboard } from '../src/index.js';
import { operator, testSetup } from './support/config.js';
import { request } from './support/http.js';

const onClose = useCleanups();

it('serves everything, Bull Board included, under DASHBOARD_BASE_PATH', async () => {
  const setup = testSetup({ DASHBOARD_BASE_PATH: '/ops/pg-backups/' });
  onClose(() => setup.cleanup());
  const dashboard = await startDashboard(setup.config, { announce: () => undefined });
  onClose(() => dashboard.close());
  expect(dashboard.url).toMatch(/\/ops\/pg-backups\/$/);
  const origin = new URL(dashboard.url).origin;
  const at = (path: string) => `${origin}${path}`;

  const redirect = await request(at('/ops/pg-backups/'), { as: operator });
  expect(redirect.status).toBe(302);
  expect(redirect.headers.get('location')).toBe('/ops/pg-backups/backups');

  const page = await request(at('/ops/pg-backups/backups'), { as: operator });
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('href="/ops/pg-backups/queues"');
  expect(html).toContain('href="/ops/pg-backups/metrics"');

  const board = await request(at('/ops/pg-backups/queues'), { as: operator });
  expect(board.status).toBe(200);
  const boardHtml = await board.text();
  expect(boardHtml).toContain('<base href="/ops/pg-backups/queues/"');
  const script = /<script defer src="(static\/js\/main\.[^"]+\.js)"/.exec(boardHtml)?.[1];
  expect(script).toBeDefined();
  expect((await request(at(`/ops/pg-backups/queues/${script}`), { as: operator })).status).toBe(200);

  const api = await request(at('/ops/pg-backups/queues/api/queues'), { as: operator });
  expect(api.status).toBe(200);
  const queues = (await api.json()) as { queues: Array<{ name: string }> };
  expect(queues.queues.map((queue) => queue.name)).toEqual(['backups']);

  expect((await request(at('/ops/pg-backups/metrics'), { as: operator })).status).toBe(200);
  expect((await request(at('/ops/pg-backups/healthz'))).status).toBe(200);
  expect((await request(at('/ops/pg-backups/readyz'))).status).toBe(200);

  // Nothing answers outside the base path.
  for (const path of ['/backups', '/queues', '/metrics', '/healthz']) {
    expect((await request(at(path), { as: operator })).status, path).toBe(404);
  }
});
