import fs from 'node:fs/promises';
import path from 'node:path';
import { listBackups, verifyBackup } from '@pgbackup/backup-core';
import { enqueueDump } from '@pgbackup/queue';
import { createTestDatabase, type TestDatabase, waitFor } from '@pgbackup/testkit';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { type WorkerFixture, workerFixture } from './test-support/worker-fixture.js';
import { spawnWorker, type WorkerProcess } from './test-support/worker-process.js';

let fixture: WorkerFixture | undefined;
const processes: WorkerProcess[] = [];
afterEach(async () => {
  for (const worker of processes.splice(0)) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
  await fixture?.cleanup();
  fixture = undefined;
});

let db: TestDatabase;
beforeAll(async () => {
  // Large enough that a dump takes a while, so there is time to kill in the middle of it.
  db = await createTestDatabase('big');
  await db.query(
    `CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) AS v FROM generate_series(1, 800000) g`,
  );
});

async function partialFiles(backupDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const target of await fs.readdir(backupDir).catch(() => [] as string[])) {
    for (const name of await fs.readdir(path.join(backupDir, target)))
      if (name.endsWith('.partial')) found.push(name);
  }
  return found;
}

/** Settings under which a dead worker's job is taken over within seconds. */
const fastTakeover = { BACKUP_JOB_LOCK_MS: '2000', BACKUP_STALLED_INTERVAL_MS: '1000' };

it('a worker killed with SIGKILL mid-dump: the job is taken over and leaves exactly one valid backup', async () => {
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'big',
    BACKUP_VERIFY: 'checksum',
  });
  const first = spawnWorker({ ...fixture.env, ...fastTakeover });
  processes.push(first);
  const job = await enqueueDump(fixture.queue, { target: 'big' });
  await waitFor(
    'the dump to write bytes',
    async () => {
      const progress = (await fixture!.queue.getJob(job.id!))?.progress as
        | { storedBytes?: number }
        | undefined;
      return (progress?.storedBytes ?? 0) > 0 || (await partialFiles(fixture!.config.backupDir)).length > 0;
    },
    30_000,
  );
  first.child.kill('SIGKILL');
  await first.exited;

  // The second worker, started after the crash, sweeps the dead run's partial file and takes the job over.
  await fixture.start({ lockDurationMs: 2_000, stalledIntervalMs: 1_000 });
  expect(await fixture.finished(job, 90_000)).toBe('completed');
  await waitFor(
    'the verify of the backup',
    async () => (await fixture!.verifiedBackups('big')).length === 1,
    60_000,
  );
  const listing = await listBackups(fixture.config.backupDir, { target: 'big' });
  expect(listing.entries).toHaveLength(1);
  expect(await partialFiles(fixture.config.backupDir)).toEqual([]);
  await verifyBackup({
    backupDir: fixture.config.backupDir,
    id: listing.entries[0]!.manifest.id,
    level: 'read',
    record: false,
  });
});

it('graceful shutdown mid-dump: the deadline aborts the dump, no partial file and no child process remain', async () => {
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'big',
    BACKUP_SHUTDOWN_TIMEOUT: '200ms',
  });
  const worker = spawnWorker(fixture.env);
  processes.push(worker);
  const job = await enqueueDump(fixture.queue, { target: 'big' });
  await waitFor('pg_dump to run', async () => worker.descendants().length > 0, 90_000); // a worker's start on a busy two-core machine
  const children = worker.descendants();
  worker.child.kill('SIGTERM');
  await worker.exited;
  expect(worker.child.exitCode).toBe(0);
  expect(worker.output()).toMatch(/shutdown deadline passed: aborting running jobs/);
  expect(await partialFiles(fixture.config.backupDir)).toEqual([]);
  // The worker's pg_dump and zstd are gone (checked by pid: other test files run dumps meanwhile).
  for (const pid of children) expect(() => process.kill(pid, 0)).toThrow();
  // The aborted attempt is retryable: it is back in the queue for another worker.
  expect(['delayed', 'waiting', 'failed']).toContain(await fixture.queue.getJobState(job.id!));
  const state = await fixture.queue.getJob(job.id!);
  expect(state?.failedReason ?? '').toMatch(/ABORTED|^$/);
});

it('two workers and manual dumps never dump the same target at the same time', async () => {
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'big',
    BACKUP_VERIFY: 'checksum',
    BACKUP_CONCURRENCY: '4',
    // Four backups on one day: the default floor of 3 lets the prune after the fourth verify
    // delete the first, which is retention working, not a lost dump.
    BACKUP_RETENTION: 'daily=7,weekly=4,monthly=12,min=10',
  });
  await fixture.start();
  await fixture.start();
  // A manual dump while one is waiting joins it (same job) instead of adding a second dump.
  const a = await enqueueDump(fixture.queue, { target: 'big' });
  const joined = await enqueueDump(fixture.queue, { target: 'big' });
  expect(joined.id).toBe(a.id);
  // Jobs that bypass deduplication (custom ids, as the scheduler's) must wait for the lock.
  const others = await Promise.all(
    [1, 2, 3].map((n) => fixture!.queue.add('dump', { target: 'big' }, { jobId: `manual-${n}` })),
  );
  for (const job of [a, ...others]) expect(await fixture.finished(job, 120_000)).toBe('completed');
  const manifests = (await listBackups(fixture.config.backupDir, { target: 'big' })).entries.map(
    (e) => e.manifest,
  );
  expect(manifests).toHaveLength(4);
  const spans = manifests
    .map((m) => [Date.parse(m.createdAt), Date.parse(m.completedAt)] as const)
    .sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
});
