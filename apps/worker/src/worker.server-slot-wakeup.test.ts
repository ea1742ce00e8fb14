import { jobNames, parseJobResult } from '@pgbackup/queue';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ServerTargetFixture, serverTargetFixture } from './test-support/server-target-fixture.js';
import type { WorkerFixture } from './test-support/worker-fixture.js';

// A server's cap spent: the jobs that wait for a slot are woken as soon as one is released, not
// when their retry delay runs out. The delay is set to 10 minutes here, so the run can only finish
// within the test's time if every release wakes the next waiter.

let serverTarget: ServerTargetFixture;
let fixture: WorkerFixture;
const databases = ['one', 'two', 'three', 'four', 'five'];

beforeAll(async () => {
  serverTarget = await serverTargetFixture(
    databases,
    { BACKUP_CONCURRENCY: '5', BACKUP_SERVER_CONCURRENCY: '1' },
    'CREATE TABLE t AS SELECT generate_series(1, 2000) AS id',
  );
  fixture = serverTarget.fixture;
}, 120_000);

afterAll(async () => {
  await serverTarget?.cleanup();
});

it('a released server slot wakes the longest-waiting dump at once; the retry delay is only a fallback', async () => {
  const service = await fixture.start({ lockRetryMs: 600_000 });
  const run = await fixture.queue.add(jobNames.discover, { server: 'srv', origin: 'manual' });
  expect(await fixture.finished(run, 120_000)).toBe('completed');
  const result = parseJobResult('discover', run.id, (await fixture.queue.getJob(run.id!))?.returnvalue);
  expect(result.databases.map((d) => d.database).sort()).toEqual([...databases].sort());
  // Five dumps, one slot, five worker slots: four of them found the cap spent and were delayed by
  // 10 minutes; each finished within this test's 3 minutes only because a release woke it.
  for (const database of result.databases)
    expect(await fixture.finished(database.dumpJobId, 180_000), database.target).toBe('completed');
  const logs = await Promise.all(
    result.databases.map(async (d) => (await fixture.queue.getJobLogs(d.dumpJobId)).logs.join('\n')),
  );
  expect(logs.filter((log) => log.includes('BACKUP_SERVER_CONCURRENCY')).length).toBeGreaterThan(0);
  expect(await service.context.slots.holders('servers:srv')).toBe(0);
}, 300_000);
