import type { BackupConfig } from '@pgbackup/backup-core';
import { createBackupQueue, createRedisConnection, enqueueDump, QUEUE_NAME } from '@pgbackup/queue';
import { waitFor } from '@pgbackup/testkit';
import { type Job, type Queue, Worker } from 'bullmq';

/**
 * Fails the job `jobId` (enqueued with one attempt) the way the worker reports failures
 * (`CODE: message`), with a stand-in processor instead of the backup worker: for tests of the
 * dashboard, where what matters is a failed job to look at and retry, not how it failed.
 */
export async function failWithStandIn(
  config: BackupConfig,
  queue: Queue,
  jobId: string,
  reason: string,
): Promise<void> {
  const workerConnection = createRedisConnection(config.redis);
  const worker = new Worker(
    QUEUE_NAME,
    async () => {
      throw new Error(reason);
    },
    { connection: workerConnection, prefix: config.redis.prefix },
  );
  try {
    await waitFor(`job ${jobId} to fail`, async () => (await queue.getJobState(jobId)) === 'failed', 30_000);
  } finally {
    await worker.close();
    workerConnection.disconnect();
  }
}

/** A failed dump job of `target` in a queue handle of its own (failWithStandIn). */
export async function makeFailedJob(
  config: BackupConfig,
  target: string,
  reason = 'PG_UNREACHABLE: could not connect to server',
): Promise<{ queue: Queue; job: Job; close(): Promise<void> }> {
  const connection = createRedisConnection(config.redis);
  const queue = createBackupQueue(config, connection);
  const job = await enqueueDump(queue, { target }, { attempts: 1 });
  await failWithStandIn(config, queue, job.id!, reason);
  return {
    queue,
    job,
    close: async () => {
      await queue.close();
      await connection.quit();
    },
  };
}
