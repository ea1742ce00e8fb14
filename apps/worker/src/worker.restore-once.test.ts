import { enqueueDump, enqueueRestore } from '@pgbackup/queue';
import { createTestDatabase, type TestDatabase, waitFor } from '@pgbackup/testkit';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type WebhookReceiver, webhookReceiver } from './test-support/webhook-receiver.js';
import { type WorkerFixture, workerFixture } from './test-support/worker-fixture.js';

let fixture: WorkerFixture;
let source: TestDatabase;
let backupId: string;
let hook: WebhookReceiver;

beforeAll(async () => {
  source = await createTestDatabase('once_src');
  await source.query('CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 50) g');
  hook = await webhookReceiver();
  fixture = await workerFixture({
    DATABASE_URL: source.url,
    BACKUP_TARGET_NAME: 'once',
    BACKUP_WEBHOOK_URL: hook.url,
  });
  await fixture.start();
  const dump = await enqueueDump(fixture.queue, { target: 'once' });
  expect(await fixture.finished(dump)).toBe('completed');
  const done = await fixture.queue.getJob(dump.id!);
  backupId = (done!.returnvalue as { backupId: string }).backupId;
});

afterAll(async () => {
  await fixture?.cleanup();
  await hook?.close();
});

async function rowsIn(db: TestDatabase): Promise<number> {
  const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM t');
  return Number(row?.n);
}

async function replay(job: Job, state: 'completed' | 'failed'): Promise<void> {
  // What Bull Board's retry did, or anyone writing to Redis: back to waiting, counters reset.
  await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
}

it('refuses to run a completed restore again, leaving the database as it is now', async () => {
  const copy = await createTestDatabase('once_copy');
  const job = await enqueueRestore(fixture.queue, { backupId, database: copy.name });
  expect(job.opts.attempts).toBe(1);
  expect(await fixture.finished(job)).toBe('completed');
  expect(await rowsIn(copy)).toBe(50);

  // Work done in the restored database after the restore: a replay would throw it away.
  await copy.query('DELETE FROM t WHERE id > 10');

  await replay((await fixture.queue.getJob(job.id!))!, 'completed');
  expect(await fixture.finished(job)).toBe('failed');
  const refused = (await fixture.queue.getJob(job.id!))!;
  expect(refused.failedReason).toMatch(
    new RegExp(`^RESTORE_ALREADY_RAN: restore job ${job.id} already started at \\S+Z .*backupctl restore`),
  );
  expect(refused.attemptsMade).toBe(1);
  expect(await rowsIn(copy)).toBe(10);
  const logs = (await fixture.queue.getJobLogs(job.id!)).logs.join('\n');
  expect(logs).toMatch(/rejected: RESTORE_ALREADY_RAN/);
  // The alert does not tell the operator to run it again: the first run may have done it.
  await waitFor(
    'the restore alert',
    async () => hook.received.some((r) => r.event === 'restore_failed'),
    10_000,
  );
  const alert = hook.received.find((r) => r.event === 'restore_failed')!;
  expect(alert).toMatchObject({ target: 'once', code: 'RESTORE_ALREADY_RAN', jobId: job.id });
  expect(String(alert.text)).toContain("The first run's outcome is not known here");
  expect(hook.received.filter((r) => r.event === 'failure')).toEqual([]);
  // Still refused on a second replay: the mark stays with the job.
  await replay(refused, 'failed');
  expect(await fixture.finished(job)).toBe('failed');
  expect((await fixture.queue.getJob(job.id!))?.failedReason).toMatch(/^RESTORE_ALREADY_RAN: /);
});

it('refuses a failed restore retried by hand, and a fresh restore job still runs', async () => {
  // A database with a table, without force: the restore fails (RESTORE_TARGET_NOT_EMPTY).
  const busy = await createTestDatabase('once_busy');
  await busy.query('CREATE TABLE t (id int)');
  const database = busy.name;
  const job = await enqueueRestore(fixture.queue, { backupId, database });
  expect(await fixture.finished(job)).toBe('failed');
  const first = (await fixture.queue.getJob(job.id!))!;
  expect(first.failedReason).toMatch(/^RESTORE_TARGET_NOT_EMPTY: /);

  // Retried with force added to its data, as an edit in the board would have done.
  await first.updateData({ ...first.data, force: true });
  await replay(first, 'failed');
  expect(await fixture.finished(job)).toBe('failed');
  expect((await fixture.queue.getJob(job.id!))?.failedReason).toMatch(/^RESTORE_ALREADY_RAN: /);

  // The way to restore again: a new job.
  const fresh = await enqueueRestore(fixture.queue, { backupId, database, force: true });
  expect(await fixture.finished(fresh)).toBe('completed');
  expect(await rowsIn(busy)).toBe(50);
});
