import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@pgbackup/backup-core';
import { enqueueDump } from '@pgbackup/queue';
import { createTestDatabase, RedisServer, uniquePrefix } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { startWorkerService } from './service.js';
import { webhookReceiver } from './test-support/webhook-receiver.js';
import { useWorkerFixtures, type WorkerFixture } from './test-support/worker-fixture.js';

const { workerFixture, onCleanup } = useWorkerFixtures();
let fixture: WorkerFixture | undefined;

it('refuses to start on a Redis that may evict keys, naming the setting to change', async () => {
  const redis = await RedisServer.start({ settings: { 'maxmemory-policy': 'allkeys-lru' } });
  onCleanup(() => redis.destroy());
  const db = await createTestDatabase('evict');
  const config = loadConfig({
    env: {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      BACKUP_QUEUE_PREFIX: uniquePrefix(),
      BACKUP_HEALTH_PORT: '0',
      LOG_LEVEL: 'silent',
    },
    cwd: '/tmp',
  });
  await expect(startWorkerService(config)).rejects.toMatchObject({
    code: 'CONFIG_INVALID',
    message: expect.stringMatching(/maxmemory-policy is allkeys-lru.*noeviction/),
  });
});

it('serves /healthz: 200 while Redis answers', async () => {
  const db = await createTestDatabase('health');
  fixture = await workerFixture({ DATABASE_URL: db.url, BACKUP_HEALTH_PORT: '0' });
  // Port 0 disables the endpoint; a real port is picked by listening on an ephemeral one first.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  fixture.config.worker.healthPort = port;
  const service = await fixture.start();
  const response = await fetch(`${service.healthUrl}/healthz`);
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({
    ok: true,
    checks: { redis: { ok: true }, worker: { ok: true } },
  });
  expect((await fetch(`${service.healthUrl}/other`)).status).toBe(404);
});

it('alerts once when a target has had no verified backup for longer than its schedule allows, and clears after a backup', async () => {
  const hook = await webhookReceiver();
  onCleanup(() => hook.close());
  const { received } = hook;
  const db = await createTestDatabase('stale');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_MAX_AGE: '1h',
    BACKUP_WEBHOOK_URL: hook.url,
  });
  const service = await fixture.start();
  const alerts = service.context.alerts;
  const now = Date.now();
  // First sight of the target starts its clock: not stale yet.
  expect(await alerts.checkStaleness(new Date(now))).toEqual([]);
  // Two hours later, still no verified backup: stale, alerted once however often it is checked.
  expect(await alerts.checkStaleness(new Date(now + 2 * 3_600_000))).toEqual(['app']);
  // Delivered in the background; the "sent" key is set once the receiver accepted it.
  await expect.poll(() => received.filter((r) => r.event === 'stale').length).toBe(1);
  await expect
    .poll(() => service.context.redis.exists(`${fixture!.config.redis.prefix}:alerts:stale:app`))
    .toBe(1);
  expect(await alerts.checkStaleness(new Date(now + 2.5 * 3_600_000))).toEqual(['app']);
  expect(received.filter((r) => r.event === 'stale')).toHaveLength(1);
  expect(String(received[0]?.text)).toMatch(/never had a verified backup/);

  const job = await enqueueDump(fixture.queue, { target: 'app' });
  expect(await fixture.finished(job)).toBe('completed');
  await expect.poll(() => fixture!.verifiedBackups('app'), { timeout: 30_000 }).toHaveLength(1);
  expect(await alerts.checkStaleness(new Date())).toEqual([]);
});
