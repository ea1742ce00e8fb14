import { Writable } from 'node:stream';
import { createLogger } from '@pgbackup/backup-core';
import { createTestDatabase } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { webhookReceiver } from './test-support/webhook-receiver.js';
import { useWorkerFixtures, type WorkerFixture } from './test-support/worker-fixture.js';

const { workerFixture, onCleanup } = useWorkerFixtures();
let fixture: WorkerFixture | undefined;

const hours = (n: number) => n * 3_600_000;

async function staleSetup(failFirst: number, delaysMs: number[]) {
  const receiver = await webhookReceiver({ failFirst });
  onCleanup(() => receiver.close());
  const db = await createTestDatabase('stale-retry');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_MAX_AGE: '1h',
    BACKUP_WEBHOOK_URL: receiver.url,
  });
  let log = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      log += chunk;
      done();
    },
  });
  const service = await fixture.start({
    webhookRetry: { delaysMs, jitter: 0 },
    logger: createLogger({ level: 'info', destination }),
  });
  const { alerts, redis } = service.context;
  const staleKey = `${fixture.config.redis.prefix}:alerts:stale:app`;
  const now = Date.now();
  expect(await alerts.checkStaleness(new Date(now))).toEqual([]);
  return { alerts, redis, staleKey, now, receiver, log: () => log };
}

it('a stale alert whose webhook fails is retried and arrives once; the "sent" key waits for the delivery', async () => {
  const { alerts, redis, staleKey, now, receiver } = await staleSetup(3, [600, 600, 600, 600, 600]);
  expect(await alerts.checkStaleness(new Date(now + hours(2)))).toEqual(['app']);
  // Delivery is failing (the first 3 posts get 500): the key that stops further alerts is not set.
  await expect.poll(() => receiver.attempts, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
  expect(await redis.get(staleKey)).toBeNull();
  // A check during the retries does not start a second delivery.
  expect(await alerts.checkStaleness(new Date(now + hours(2.1)))).toEqual(['app']);
  expect(await redis.get(staleKey)).toBeNull();

  await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(1);
  expect(receiver.attempts).toBe(4);
  await expect.poll(() => redis.get(staleKey), { timeout: 5_000 }).not.toBeNull();
  // Delivered: later checks send nothing more.
  expect(await alerts.checkStaleness(new Date(now + hours(3)))).toEqual(['app']);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(receiver.received.filter((body) => body.event === 'stale')).toHaveLength(1);
  expect(receiver.attempts).toBe(4);
}, 60_000);

it('a stale alert whose every retry failed is sent again by the next check, never lost', async () => {
  // 3 attempts per delivery; the receiver refuses the first 4 posts.
  const { alerts, redis, staleKey, now, receiver } = await staleSetup(4, [50, 50]);
  expect(await alerts.checkStaleness(new Date(now + hours(2)))).toEqual(['app']);
  await expect.poll(() => receiver.attempts, { timeout: 5_000 }).toBe(3);
  // Given up: the claim is released and the key still unset, so the next check tries again.
  await expect
    .poll(() => redis.exists(`${staleKey.replace(':stale:', ':stale-sending:')}`), { timeout: 5_000 })
    .toBe(0);
  expect(await redis.get(staleKey)).toBeNull();
  expect(await alerts.checkStaleness(new Date(now + hours(2.1)))).toEqual(['app']);
  await expect.poll(() => receiver.received.length, { timeout: 5_000 }).toBe(1);
  expect(receiver.attempts).toBe(5);
  await expect.poll(() => redis.get(staleKey), { timeout: 5_000 }).not.toBeNull();
}, 60_000);

it('shutting down abandons a retrying alert with a log line, without waiting for the schedule', async () => {
  const { alerts, now, receiver, log } = await staleSetup(1_000, [60_000]);
  expect(await alerts.checkStaleness(new Date(now + hours(2)))).toEqual(['app']);
  await expect.poll(() => receiver.attempts, { timeout: 5_000 }).toBe(1);
  const started = Date.now();
  await fixture!.services[0]!.close();
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(log()).toMatch(/"event":"stale".*webhook delivery abandoned at shutdown/);
  expect(log()).toContain('worker stopped');
}, 60_000);
