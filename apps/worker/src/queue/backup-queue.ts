import type { BackupConfig } from '@pgbackup/backup-core';
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DumpJobData, PruneJobData, RestoreJobData, VerifyJobData } from './job-data.js';
import { jobNames, QUEUE_NAME } from './names.js';

/** Retry policy of every job: exponential backoff with jitter, history kept for the dashboard. */
export function defaultJobOptions(config: BackupConfig): JobsOptions {
  return {
    attempts: config.worker.attempts,
    backoff: { type: 'exponential', delay: config.worker.backoffMs, jitter: 0.5 },
    removeOnComplete: { age: 30 * 86_400, count: 5_000 },
    removeOnFail: { age: 90 * 86_400 },
  };
}

export function createBackupQueue(config: BackupConfig, connection: Redis): Queue {
  return new Queue(QUEUE_NAME, {
    connection,
    prefix: config.redis.prefix,
    defaultJobOptions: defaultJobOptions(config),
  });
}

/**
 * While a dump of a target is waiting or running, asking for another one returns that job:
 * a manual dump joins the running one instead of colliding with it.
 */
export function dumpDeduplicationId(target: string): string {
  return `dump-${target}`;
}

export async function enqueueDump(queue: Queue, data: DumpJobData, options: JobsOptions = {}) {
  return queue.add(jobNames.dump, data, {
    deduplication: { id: dumpDeduplicationId(data.target) },
    ...options,
  });
}

/** Deterministic ids: a job re-run after a crash enqueues the same follow-up, not a second one. */
export async function enqueueVerify(queue: Queue, data: VerifyJobData, options: JobsOptions = {}) {
  return queue.add(jobNames.verify, data, {
    jobId: `verify-${data.backupId}-${data.level ?? 'default'}`,
    ...options,
  });
}

export async function enqueuePrune(queue: Queue, data: PruneJobData, options: JobsOptions = {}) {
  return queue.add(jobNames.prune, data, options);
}

export async function enqueueRestore(queue: Queue, data: RestoreJobData, options: JobsOptions = {}) {
  // A restore is not retried automatically: it replaces a database, an operator decides again.
  return queue.add(jobNames.restore, data, { attempts: 1, ...options });
}
