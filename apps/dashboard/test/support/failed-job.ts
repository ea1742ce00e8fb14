import type { BackupConfig } from '@pgbackup/backup-core';
import { createBackupQueue, createRedisConnection, enqueueDump, QUEUE_NAME } from '@pgbackup/queue';
import { waitFor } from '@pgbackup/testkit';
import { type Job, type Queue, Worker } from 'bullmq';

/**
 * A failed dump job in the queue, made without the backup worker: a stand-in processor fails it
 * the way the worker reports failures (`CODE: message`). Only for tests of the dashboard's HTTP
 * side, where what matters is a failed job to look at and retry, not how it failed.
 */
export async function makeFailedJob(
  config: BackupConfig,
  target: string,
  reason = 'PG_UNREACHABLE: could not connect to server',
): Promise<{ queue: Queue; job: Job; close(): Promise<void> }> {
  const connection = createRedisConnection(config.redis);
  const queue = createBackupQueue(config, connection);
  const job = await enqueueDump(queue, { target }, { attempts: 1 });
  const workerConnection = createRedisConnection(config.redis);
  const worker = new Worker(
    QUEUE_NAME,
    async () => {
      throw new Error(reason);
    },
    { connection: workerConnection, prefix: config.redis.prefix },
  );
  try {
    await waitFor(
      `job ${job.id} to fail`,
      async () => (await queue.getJobState(job.id!)) === 'failed',
      30_000,
    );
  } finally {
    await worker.close();
    workerConnection.disconnect();
  }
  return {
    queue,
    job,
    close: async () => {
      await queue.close();
      await connection.quit();
    },
  };
}
