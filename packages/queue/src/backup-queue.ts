import type { BackupConfig } from '@pgbackup/backup-core';
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type {
  CopyJobData,
  DiscoverJobData,
  DrillJobData,
  DumpJobData,
  PruneJobData,
  RestoreJobData,
  VerifyJobData,
} from './job-data.js';
import { jobNames, QUEUE_NAME } from './names.js';
import { defaultJobOptions, restoreJobOptions } from './retry-policy.js';

/**
 * How many entries BullMQ's events stream keeps (its default is 10,000). Nothing of the service
 * reads the stream's history: backupctl follows a job by polling it, Bull Board reads the jobs. At
 * 10,000 entries (a completed event carries the job's return value) it held 3.7 MB at 500
 * targets, more than every job record together (docs/reliability.md, Redis per target); 1,000
 * still covers a QueueEvents reader (the bench's) that falls a few hundred events behind.
 */
export const EVENTS_MAX_LEN = 1_000;

export function createBackupQueue(config: BackupConfig, connection: Redis): Queue {
  return new Queue(QUEUE_NAME, {
    connection,
    prefix: config.redis.prefix,
    defaultJobOptions: defaultJobOptions(config),
    // Written into the queue's meta hash, which the scripts that add events read.
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
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

/**
 * A run of a server target now (`backupctl dump --target <server>`): the same discover job its
 * schedule creates (discovery, a dump of each database, the globals). Asking again while one
 * waits or runs returns that one, like a manual dump.
 */
export function discoverDeduplicationId(server: string): string {
  return `discover-${server}`;
}

export async function enqueueDiscover(queue: Queue, data: DiscoverJobData, options: JobsOptions = {}) {
  return queue.add(jobNames.discover, data, {
    deduplication: { id: discoverDeduplicationId(data.server) },
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

/** One job per backup and destination: a chain re-run after a crash adds no second copy job. */
export function copyJobId(backupId: string, destination: string): string {
  return `copy-${backupId}-${destination}`;
}

export async function enqueueCopy(queue: Queue, data: CopyJobData, options: JobsOptions = {}) {
  return queue.add(jobNames.copy, data, { jobId: copyJobId(data.backupId, data.destination), ...options });
}

export async function enqueuePrune(queue: Queue, data: PruneJobData, options: JobsOptions = {}) {
  return queue.add(jobNames.prune, data, options);
}

/** The prune that ends a backup's chain: one per backup, so a re-run enqueues the same job. */
export async function enqueueChainPrune(queue: Queue, target: string, backupId: string) {
  return enqueuePrune(queue, { target, origin: 'chain' }, { jobId: `prune-after-${backupId}` });
}

/**
 * While a drill of a target waits or runs, asking for another returns that one: a "Drill now"
 * clicked twice, or a manual drill while the scheduled one waits for a slot, drills once.
 */
export function drillDeduplicationId(target: string): string {
  return `drill-${target}`;
}

export async function enqueueDrill(queue: Queue, data: DrillJobData, options: JobsOptions = {}) {
  return queue.add(jobNames.drill, data, {
    deduplication: { id: drillDeduplicationId(data.target) },
    ...options,
  });
}

export async function enqueueRestore(queue: Queue, data: RestoreJobData, options: JobsOptions = {}) {
  return queue.add(jobNames.restore, data, { ...options, ...restoreJobOptions });
}
