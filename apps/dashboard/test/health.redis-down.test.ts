import path from 'node:path';
import { RedisServer, useCleanups, waitFor } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { startDashboard } from '../src/index.js';
import { operator, testSetup } from './support/config.js';
import { request } from './support/http.js';

const onClose = useCleanups();

it('reports 503 on /healthz and /readyz when Redis is down, and still serves the catalog', async () => {
  const redis = await RedisServer.start();
  onClose(() => redis.destroy());
  const setup = testSetup({ REDIS_URL: redis.url });
  onClose(() => setup.cleanup());
  const dashboard = await startDashboard(setup.config, { announce: () => undefined, closeTimeoutMs: 2_000 });
  onClose(() => dashboard.close());
  const url = (p: string) => new URL(p, dashboard.url).toString();

  expect((await request(url('healthz'))).status).toBe(200);
  await redis.stop();

  await waitFor('/healthz to answer 503', async () => (await request(url('healthz'))).status === 503, 20_000);
  const health = await request(url('healthz'));
  expect(await health.json()).toEqual({ status: 'unavailable', checks: { redis: 'down' } });
  const ready = await request(url('readyz'));
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ status: 'unavailable', checks: { redis: 'down', backupDir: 'ok' } });

  // The files are the record: the catalog page and the backup metrics do not need Redis.
  expect((await request(url('backups'), { as: operator })).status).toBe(200);
  const metrics = await request(url('metrics'), { as: operator });
  expect(metrics.status).toBe(200);
  const text = await metrics.text();
  expect(text).toMatch(/^pgbackup_redis_up 0$/m);
  expect(text).toMatch(/^pgbackup_catalog_problems 0$/m);

  await redis.restart();
  await waitFor(
    '/healthz to answer 200 again',
    async () => (await request(url('healthz'))).status === 200,
    30_000,
  );
});

it('is not ready when the backup directory cannot be read', async () => {
  const setup = testSetup();
  onClose(() => setup.cleanup());
  const config = { ...setup.config, backupDir: path.join(setup.dir, 'missing') };
  const dashboard = await startDashboard(config, { announce: () => undefined });
  onClose(() => dashboard.close());
  const ready = await request(new URL('readyz', dashboard.url).toString());
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ status: 'unavailable', checks: { redis: 'ok', backupDir: 'down' } });
  expect((await request(new URL('healthz', dashboard.url).toString())).status).toBe(200);
});
