import { createTestDatabase, freePort } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { webhookReceiver } from './test-support/webhook-receiver.js';
import { useWorkerFixtures, type WorkerFixture } from './test-support/worker-fixture.js';

const { workerFixture, onCleanup } = useWorkerFixtures();
let fixture: WorkerFixture | undefined;

const days = (n: number) => n * 86_400_000;

it('alerts once when no drill succeeded within two drill periods, and again after a success and a new spell', async () => {
  const receiver = await webhookReceiver();
  onCleanup(() => receiver.close());
  const db = await createTestDatabase('drill_stale');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    // Only checked against the clock here: no drill runs.
    BACKUP_DRILL_DATABASE_URL: `postgresql://postgres@127.0.0.1:${await freePort()}/postgres`,
    BACKUP_DRILL_SCHEDULE: '0 4 * * 0',
    BACKUP_WEBHOOK_URL: receiver.url,
  });
  const service = await fixture.start({ webhookRetry: { delaysMs: [200], jitter: 0 } });
  const { drillAlerts } = service.context;
  const now = Date.now();
  // Watched from now on: within the grace of two weekly periods, nothing.
  expect(await drillAlerts.checkStaleness(new Date(now))).toEqual([]);
  expect(await drillAlerts.checkStaleness(new Date(now + days(10)))).toEqual([]);
  // Past two weeks and an hour: stale, alerted once however often it is checked.
  expect(await drillAlerts.checkStaleness(new Date(now + days(15)))).toEqual(['app']);
  expect(await drillAlerts.checkStaleness(new Date(now + days(16)))).toEqual(['app']);
  await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(1);
  expect(receiver.received[0]).toMatchObject({ event: 'drill_stale', target: 'app' });
  expect(String(receiver.received[0]!.text)).toContain('never had a successful drill');

  // A successful drill ends the spell: the next stale spell alerts again.
  await drillAlerts.drillSucceeded('app');
  expect(await drillAlerts.checkStaleness(new Date(now + days(17)))).toEqual(['app']);
  await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(2);
});

it('sends no drill alert for targets without a drill server', async () => {
  const db = await createTestDatabase('drill_none');
  fixture = await workerFixture({ DATABASE_URL: db.url, BACKUP_TARGET_NAME: 'app' });
  const service = await fixture.start();
  expect(await service.context.drillAlerts.checkStaleness(new Date(Date.now() + days(365)))).toEqual([]);
  expect((await fixture.queue.getJobSchedulers(0, -1, true)).map((s) => s.key)).toEqual(['dump:app']);
});
