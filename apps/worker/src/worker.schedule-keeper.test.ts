import { listBackups, silentLogger } from '@pgbackup/backup-core';
import { createRedisConnection, drillSchedulerId, dumpSchedulerId } from '@pgbackup/queue';
import { createTestDatabase, freePort, RedisServer, waitFor } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { restoreLostSchedules } from './schedule-keeper.js';
import { webhookReceiver } from './test-support/webhook-receiver.js';
import { useWorkerFixtures } from './test-support/worker-fixture.js';

// Schedules live only in Redis. These tests take them away as Redis loses data (a restart without
// persistence; a pending run gone, as after a failover that lost the last writes) and check that
// a running worker puts them back by itself, says so once, and that the schedule runs again.

const { workerFixture, onCleanup } = useWorkerFixtures();

/** The worker's minute check, made short for the test. */
const checkEveryMs = 300;

function restoredEvents(received: Array<Record<string, unknown>>, target: string) {
  return received.filter((body) => body.event === 'schedule_restored' && body.target === target);
}

it('after Redis restarts empty, the worker puts the schedule back, says so once, and the scheduled backups go on', async () => {
  const redis = await RedisServer.start(); // no persistence: a restart loses everything
  onCleanup(() => redis.destroy());
  const hook = await webhookReceiver();
  onCleanup(() => hook.close());
  const db = await createTestDatabase('keeper');
  await db.query('CREATE TABLE t AS SELECT g FROM generate_series(1, 100) g');
  const fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_SCHEDULE: '*/2 * * * * *',
    BACKUP_RETENTION: 'daily=7,weekly=0,monthly=0,min=100',
    REDIS_URL: redis.url,
    BACKUP_WEBHOOK_URL: hook.url,
  });
  // Two workers on one Redis: one of them puts the schedule back, once.
  await fixture.start({ staleCheckIntervalMs: checkEveryMs });
  await fixture.start({ staleCheckIntervalMs: checkEveryMs });
  await waitFor(
    'a first scheduled backup',
    async () => (await fixture.verifiedBackups('app')).length > 0,
    60_000,
  );

  await redis.kill();
  await redis.restart();
  const restartedAt = Date.now();

  await waitFor(
    'the schedule back in Redis',
    async () =>
      (await fixture.queue.getJobSchedulers(0, -1, true)).some((s) => s.key === dumpSchedulerId('app')),
    30_000,
  );
  await waitFor(
    'a scheduled backup made after the restart, verified',
    async () => {
      const listing = await listBackups(fixture.config.backupDir, { target: 'app' });
      return listing.entries.some(
        (entry) =>
          Date.parse(entry.manifest.createdAt) > restartedAt &&
          entry.manifest.verifications.some((v) => v.ok),
      );
    },
    60_000,
  );
  await waitFor('the webhook told', async () => restoredEvents(hook.received, 'app').length > 0, 10_000);
  // Several more checks on a healthy Redis: nothing more is restored, nothing more is said.
  await new Promise((resolve) => setTimeout(resolve, checkEveryMs * 8));
  const events = restoredEvents(hook.received, 'app');
  expect(events).toHaveLength(1);
  expect(events[0]!.text).toMatch(
    /^Missing from Redis and put back: the dump schedule of app \(the whole scheduler\)\./,
  );
  expect(events[0]!.targets).toEqual(['app']);
  expect((await fixture.queue.getJobSchedulers(0, -1, true)).map((s) => s.key)).toEqual([
    dumpSchedulerId('app'),
  ]);
});

it('a scheduler whose pending run is gone, or finished without a next one, gets a run back, for dumps and drills alike', async () => {
  const hook = await webhookReceiver();
  onCleanup(() => hook.close());
  const db = await createTestDatabase('keeper_run');
  const fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_SCHEDULE: '0 3 * * *',
    // Only its schedule matters here: nothing listens there.
    BACKUP_DRILL_DATABASE_URL: `postgresql://postgres@127.0.0.1:${await freePort()}/postgres`,
    BACKUP_WEBHOOK_URL: hook.url,
  });
  await fixture.start({ staleCheckIntervalMs: checkEveryMs });

  for (const id of [dumpSchedulerId('app'), drillSchedulerId('app')]) {
    const scheduler = await fixture.queue.getJobScheduler(id);
    expect(scheduler?.next, id).toBeGreaterThan(Date.now());
    const runId = `repeat:${id}:${scheduler!.next}`;
    expect(await fixture.queue.getJobState(runId)).toBe('delayed');
    // BullMQ refuses to remove a scheduler's run; Redis losing it is what happens here.
    const client = createRedisConnection(fixture.config.redis);
    onCleanup(() => client.disconnect());
    await client.multi().del(fixture.queue.toKey(runId)).zrem(fixture.queue.keys.delayed!, runId).exec();
    expect(await fixture.queue.getJobState(runId)).toBe('unknown');
    await waitFor(
      `the pending run of ${id} back`,
      async () => (await fixture.queue.getJobState(runId)) === 'delayed',
      10_000,
    );
    expect((await fixture.queue.getJobScheduler(id))?.next).toBe(scheduler!.next);
  }
  await waitFor('both told', async () => restoredEvents(hook.received, 'app').length >= 2, 10_000);

  // Yesterday's run completed while the scheduler still names it and no later run exists: the
  // worker that took it failed to ask BullMQ for the next one (Worker.nextJobFromJobData only
  // emits that error). Made by hand: the pending run removed, yesterday's run completed, the
  // scheduler pointed back at it.
  const dumpScheduler = await fixture.queue.getJobScheduler(dumpSchedulerId('app'));
  const tomorrow = dumpScheduler!.next!;
  const yesterday = tomorrow - 86_400_000;
  const runOf = (at: number) => `repeat:${dumpSchedulerId('app')}:${at}`;
  const client = createRedisConnection(fixture.config.redis);
  onCleanup(() => client.disconnect());
  await client
    .multi()
    .del(fixture.queue.toKey(runOf(tomorrow)))
    .zrem(fixture.queue.keys.delayed!, runOf(tomorrow))
    .hset(fixture.queue.toKey(runOf(yesterday)), 'name', 'dump', 'data', '{}', 'timestamp', String(yesterday))
    .zadd(fixture.queue.keys.completed!, Date.now(), runOf(yesterday))
    .zadd(fixture.queue.keys.repeat!, yesterday, dumpSchedulerId('app'))
    .exec();
  expect(await fixture.queue.getJobState(runOf(yesterday))).toBe('completed');
  await waitFor(
    "the next run after yesterday's",
    async () => (await fixture.queue.getJobState(runOf(tomorrow))) === 'delayed',
    10_000,
  );
  expect((await fixture.queue.getJobScheduler(dumpSchedulerId('app')))?.next).toBe(tomorrow);

  await waitFor('all three told', async () => restoredEvents(hook.received, 'app').length >= 3, 10_000);
  await new Promise((resolve) => setTimeout(resolve, checkEveryMs * 8));
  const texts = restoredEvents(hook.received, 'app').map((body) => String(body.text));
  expect(texts).toHaveLength(3);
  expect(texts[0]).toMatch(/^Missing from Redis and put back: the dump schedule of app \(its next run\)\./);
  expect(texts[1]).toMatch(/^Missing from Redis and put back: the drill schedule of app \(its next run\)\./);
  expect(texts[2]).toMatch(/^Missing from Redis and put back: the dump schedule of app \(its next run\)\./);
  const pending = await fixture.queue.getJobs(['delayed', 'waiting']);
  expect(pending.map((job) => job.name).sort()).toEqual(['drill', 'dump']);
});

it('a schedule removed because its target left the configuration stays removed, though a worker still runs the old one', async () => {
  const hook = await webhookReceiver();
  onCleanup(() => hook.close());
  const alpha = await createTestDatabase('keeper_alpha');
  const old = await workerFixture({
    DATABASE_URL: alpha.url,
    BACKUP_TARGET_NAME: 'alpha',
    BACKUP_SCHEDULE: '0 3 * * *',
    BACKUP_WEBHOOK_URL: hook.url,
  });
  await old.start({ staleCheckIntervalMs: checkEveryMs });

  // The new configuration (a worker started with beta only, on the same queue) drops alpha.
  const beta = await createTestDatabase('keeper_beta');
  const next = await workerFixture({
    DATABASE_URL: beta.url,
    BACKUP_TARGET_NAME: 'beta',
    BACKUP_SCHEDULE: '0 3 * * *',
    BACKUP_QUEUE_PREFIX: old.env.BACKUP_QUEUE_PREFIX!,
  });
  await next.start({ staleCheckIntervalMs: checkEveryMs });
  await new Promise((resolve) => setTimeout(resolve, checkEveryMs * 8));
  expect((await old.queue.getJobSchedulers(0, -1, true)).map((s) => s.key)).toEqual([
    dumpSchedulerId('beta'),
  ]);
  expect(hook.received.filter((body) => body.event === 'schedule_restored')).toEqual([]);

  // A worker started with alpha again brings it back (and drops beta, as any start does).
  await old.start({ staleCheckIntervalMs: checkEveryMs });
  expect((await old.queue.getJobSchedulers(0, -1, true)).map((s) => s.key)).toEqual([
    dumpSchedulerId('alpha'),
  ]);
});

it('one keeper at a time: while another worker holds the lock nothing is put back, and that lock is not released', async () => {
  const db = await createTestDatabase('keeper_lock');
  // No worker started: the configuration's schedule is not in Redis, as after a loss.
  const fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_SCHEDULE: '0 3 * * *',
  });
  const client = createRedisConnection(fixture.config.redis);
  onCleanup(() => client.disconnect());
  const lockKey = `${fixture.config.redis.prefix}:schedule-keeper:lock`;
  await client.set(lockKey, 'another worker', 'PX', 60_000);

  expect(await restoreLostSchedules(fixture.queue, client, fixture.config, silentLogger)).toEqual([]);
  expect(await fixture.queue.getJobSchedulers(0, -1, true)).toEqual([]);
  expect(await client.get(lockKey)).toBe('another worker');

  // That worker done: the next pass puts the schedule back, and releases its own lock.
  await client.del(lockKey);
  const restored = await restoreLostSchedules(fixture.queue, client, fixture.config, silentLogger);
  expect(restored.map(({ schedule, lost }) => [schedule.id, lost])).toEqual([
    [dumpSchedulerId('app'), 'scheduler'],
  ]);
  expect((await fixture.queue.getJobSchedulers(0, -1, true)).map((s) => s.key)).toEqual([
    dumpSchedulerId('app'),
  ]);
  expect(await client.get(lockKey)).toBeNull();
});
