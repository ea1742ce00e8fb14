import { copyJobId, enqueueDump, parseJobResult } from '@pgbackup/queue';
import { createTestDatabase, S3Server, type TestDatabase } from '@pgbackup/testkit';
import { expect } from 'vitest';
import { type WorkerFixture, workerFixture } from './worker-fixture.js';

export interface OffsiteFixture {
  s3: S3Server;
  db: TestDatabase;
  fixture: WorkerFixture;
  /** The worker fixture's cleanup, then the S3 server's. */
  cleanup(): Promise<void>;
}

/**
 * The offsite tests' setup: an S3 server with a `backups` bucket, a fresh database (`tableSql`
 * run in it first, when given) and a worker backing it up as target `shop`, copying to the
 * bucket as destination `s3`. `env` comes last: it may add to or override any of that.
 */
export async function offsiteFixture(
  label: string,
  env: Record<string, string> = {},
  tableSql?: string,
): Promise<OffsiteFixture> {
  const s3 = await S3Server.start({ buckets: ['backups'] });
  try {
    const db = await createTestDatabase(label);
    if (tableSql !== undefined) await db.query(tableSql);
    const fixture = await workerFixture({
      DATABASE_URL: db.url,
      BACKUP_TARGET_NAME: 'shop',
      ...s3.destinationEnv(),
      ...env,
    });
    return {
      s3,
      db,
      fixture,
      async cleanup() {
        await fixture.cleanup();
        await s3.destroy();
      },
    };
  } catch (error) {
    await s3.destroy();
    throw error;
  }
}

/**
 * A dump of `shop` on the fixture's started worker, followed to the end of its chain: the dump,
 * the copy to `s3` its verification enqueued, and the prune the confirmed copy enqueued, each
 * completed. Returns the backup's id and the prune job's.
 */
export async function dumpCopiedAndPruned(
  fixture: WorkerFixture,
): Promise<{ backupId: string; pruneJobId: string }> {
  const dump = await enqueueDump(fixture.queue, { target: 'shop', origin: 'manual' });
  expect(await fixture.finished(dump, 120_000)).toBe('completed');
  const { backupId } = parseJobResult('dump', dump.id, (await fixture.queue.getJob(dump.id!))?.returnvalue);
  const copyId = copyJobId(backupId, 's3');
  expect(await fixture.finished(copyId, 120_000)).toBe('completed');
  const { pruneJobId } = parseJobResult('copy', copyId, (await fixture.queue.getJob(copyId))?.returnvalue);
  expect(pruneJobId).toBeDefined();
  const pruneState = await fixture.finished(pruneJobId!, 120_000);
  expect(pruneState, (await fixture.queue.getJob(pruneJobId!))?.failedReason).toBe('completed');
  return { backupId, pruneJobId: pruneJobId! };
}
