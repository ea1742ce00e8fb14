import { enqueueDump } from '@pgbackup/queue';
import { createTestDatabase, type TestDatabase } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeChain, followDumpChain } from './chain.js';
import { localChainRecord } from './chain-record.js';
import { CliError } from './exit-codes.js';
import type { FollowOptions } from './follow.js';

// The queue keeps the newest 1,000 completed jobs: a `dump --wait` of a big server, following its
// databases one after another behind a slow one, can find the first chains' jobs gone. The
// manifests are the record: the chain's outcome is read there, and nothing is made up.

let fixture: WorkerFixture;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('cli_gone_jobs');
  await db.query('CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'gone',
    BACKUP_VERIFY: 'checksum',
  });
  await fixture.start();
});

afterAll(async () => {
  await fixture?.cleanup();
});

function followOptions(withRecord: boolean): FollowOptions & { notes: string[] } {
  const notes: string[] = [];
  return {
    notes,
    progress: { update: () => undefined, note: (line) => notes.push(line), finish: () => undefined },
    signal: new AbortController().signal,
    intervalMs: 50,
    ...(withRecord ? { record: localChainRecord(fixture.config.backupDir) } : {}),
  };
}

async function removeJob(id: string | undefined): Promise<void> {
  expect(id).toBeDefined();
  const job = await fixture.queue.getJob(id!);
  expect(job, `job ${id}`).toBeDefined();
  await job!.remove();
}

it('a chain whose completed jobs the queue let go is read from the backup manifest', async () => {
  const job = await enqueueDump(fixture.queue, { target: 'gone' });
  const first = await followDumpChain(fixture.queue, job.id!, 'gone', followOptions(true));
  expect(first.ok).toBe(true);
  expect(first.fromManifest).toBeUndefined();

  // The verify and prune jobs go first (the dump job is still there): read from the verify on.
  await removeJob(first.verify ? first.dump?.verifyJobId : undefined);
  await removeJob(first.verify?.pruneJobId ?? undefined);
  const fromVerify = followOptions(true);
  const second = await followDumpChain(fixture.queue, job.id!, 'gone', fromVerify);
  expect(second).toMatchObject({ ok: true, backupId: first.backupId, fromManifest: { level: 'checksum' } });
  expect(fromVerify.notes.join('\n')).toContain(
    'is no longer in the queue (it keeps the newest 1,000 completed jobs)',
  );

  // Then the dump job too: the manifest records the job's id.
  await removeJob(job.id);
  const third = await followDumpChain(fixture.queue, job.id!, 'gone', followOptions(true));
  expect(third).toMatchObject({ ok: true, backupId: first.backupId, fromManifest: { level: 'checksum' } });
  expect(describeChain(third)).toMatch(
    new RegExp(`^OK  ${first.backupId}  gone  .* verified \\(checksum\\) \\(from its manifest\\)`),
  );

  // Without the catalog, or for a job no manifest records, it stays JOB_NOT_FOUND.
  await expect(followDumpChain(fixture.queue, job.id!, 'gone', followOptions(false))).rejects.toMatchObject({
    code: 'JOB_NOT_FOUND',
  });
  const unknown = await followDumpChain(fixture.queue, 'no-such-job', 'gone', followOptions(true)).catch(
    (error: unknown) => error,
  );
  expect(unknown).toBeInstanceOf(CliError);
  expect((unknown as CliError).code).toBe('JOB_NOT_FOUND');
});
