import { setTimeout as sleep } from 'node:timers/promises';
import type { Manifest } from '@pgbackup/backup-core/catalog';
import { failureCodeOf, targetOfJob } from '@pgbackup/queue';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CliError, exitCodes, Interrupted } from './exit-codes.js';
import { createProgress, type ProgressReporter, type ProgressView } from './progress.js';

export interface FollowOptions {
  progress: ProgressReporter;
  /** Ctrl-C: stop waiting (the job keeps running). */
  signal: AbortSignal;
  /** Polling period. Default 300 ms. */
  intervalMs?: number;
  /** The queue's connection: with it, a job waiting to retry says when its next attempt runs. */
  redis?: Redis;
  /**
   * The catalog, for a chain whose finished job the queue no longer holds (chain.ts): it keeps the
   * newest 1,000 completed jobs, and a slow chain followed after many others may find its first
   * jobs gone. The manifests are the record of what was backed up.
   */
  record?: ChainRecord;
}

export interface ChainRecord {
  /** The manifest of the backup a dump job wrote (manifests record their job's id), if any. */
  manifestOfDumpJob(target: string, jobId: string): Promise<Manifest | undefined>;
  /** The manifest of a backup, if it is in the catalog. */
  manifestOf(backupId: string): Promise<Manifest | undefined>;
}

/**
 * The followed job was removed from the queue. Failed jobs are kept 90 days and completed ones
 * only the newest 1,000 (packages/queue retry-policy.ts), so such a job had almost always completed.
 */
export function isJobGone(error: unknown): boolean {
  return error instanceof CliError && error.code === 'JOB_NOT_FOUND';
}

export interface FollowOutcome {
  state: 'completed' | 'failed';
  job: Job;
}

/**
 * Waits for a job to finish by polling its state and progress. Polling rather than QueueEvents:
 * a stream reader can miss the event of a job that finished before it started reading, and
 * polling needs no extra connection; at 300 ms it costs two small Redis reads per tick.
 */
export async function followJob(queue: Queue, jobId: string, options: FollowOptions): Promise<FollowOutcome> {
  const intervalMs = options.intervalMs ?? 300;
  let reportedAttempts = 0;
  const startedAt = Date.now();
  let checkedWorkers = false;
  for (;;) {
    if (options.signal.aborted) throw new Interrupted(jobId);
    const job = await queue.getJob(jobId);
    if (!job) {
      options.progress.finish();
      throw new CliError(
        'JOB_NOT_FOUND',
        `job ${jobId} no longer exists: it was removed from the queue while being followed`,
        exitCodes.failed,
      );
    }
    const state = await job.getState();
    const label = jobLabel(job);
    if (state === 'completed' || state === 'failed') {
      // The job may have finished between reading it and reading its state: read it again so the
      // return value or failure reason is the final one.
      const finished = (await queue.getJob(jobId)) ?? job;
      if (state === 'completed') options.progress.update(finalView(finished, label));
      options.progress.finish();
      return { state, job: finished };
    }
    if (job.attemptsMade > reportedAttempts && job.failedReason) {
      reportedAttempts = job.attemptsMade;
      options.progress.note(
        `${label}: attempt ${job.attemptsMade}/${job.opts.attempts ?? 1} failed: ${job.failedReason} (will be retried)`,
      );
    }
    if (!checkedWorkers && state !== 'active' && Date.now() - startedAt >= noWorkerWarningMs) {
      checkedWorkers = true;
      await warnIfNoWorker(queue, options.progress);
    }
    options.progress.update(
      state === 'delayed' && job.attemptsMade > 0 && job.failedReason
        ? retryView(job, label, options.redis ? await nextAttemptAt(options.redis, queue, jobId) : undefined)
        : viewOf(job, state, label),
    );
    try {
      await sleep(intervalMs, undefined, { signal: options.signal });
    } catch {
      throw new Interrupted(jobId);
    }
  }
}

/**
 * A job put back after a failed attempt: the phase names the failure's code and when the next
 * attempt runs (a stable text, so a log gets one line per attempt, not one per poll).
 */
function retryView(job: Job, label: string, nextAt: Date | undefined): ProgressView {
  const code = failureCodeOf(job.failedReason) ?? 'failed';
  const when = nextAt ? ` at ${nextAt.toISOString().slice(11, 19)}Z` : '';
  return { label, phase: `attempt ${job.attemptsMade}/${job.opts.attempts ?? 1} ${code}, next${when}` };
}

/** When a delayed job runs: BullMQ keeps it in a sorted set scored by `timestamp * 0x1000 + n`. */
async function nextAttemptAt(redis: Redis, queue: Queue, jobId: string): Promise<Date | undefined> {
  const score = await redis.zscore(queue.toKey('delayed'), jobId).catch(() => null);
  return score === null ? undefined : new Date(Math.floor(Number(score) / 0x1000));
}

/** A job still not taken after this long makes the follower check that a worker is connected. */
const noWorkerWarningMs = 5_000;

async function warnIfNoWorker(queue: Queue, progress: ProgressReporter): Promise<void> {
  // CLIENT LIST may be disabled on a managed Redis: then say nothing rather than something wrong.
  const workers = await queue.getWorkersCount().catch(() => undefined);
  if (workers === 0) {
    progress.note(
      `warning: no worker is connected to queue ${queue.name} (prefix ${queue.opts.prefix}): the job waits until one starts`,
    );
  }
}

export function jobLabel(job: Job): string {
  const target = targetOfJob(job);
  return target ? `${job.name} ${target}` : `${job.name} ${job.id}`;
}

interface ProgressShape {
  phase?: unknown;
  storedBytes?: unknown;
  percent?: unknown;
}

function viewOf(job: Job, state: string, label: string): ProgressView {
  if (state === 'delayed') return { label, phase: 'delayed' };
  if (state !== 'active') return { label, phase: 'waiting' };
  const progress = job.progress as unknown;
  // BullMQ's progress starts as the number 0: the job has not reported anything yet.
  if (typeof progress === 'number')
    return progress > 0 ? { label, phase: 'running', percent: progress } : { label, phase: 'starting' };
  if (progress && typeof progress === 'object') {
    const shape = progress as ProgressShape;
    const view: ProgressView = { label, phase: typeof shape.phase === 'string' ? shape.phase : 'running' };
    if (typeof shape.storedBytes === 'number') view.bytes = shape.storedBytes;
    if (typeof shape.percent === 'number') view.percent = shape.percent;
    return view;
  }
  return { label, phase: 'running' };
}

function finalView(job: Job, label: string): ProgressView {
  const view = viewOf(job, 'active', label);
  return view.percent === undefined ? { ...view, phase: 'done' } : { ...view, phase: 'done', percent: 100 };
}

/**
 * Ctrl-C while waiting aborts the returned signal instead of killing the process: the command
 * then says which job keeps running and exits 130. A second Ctrl-C exits at once.
 */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(exitCodes.interrupted);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/**
 * Follows one job with the progress display on stderr until it finishes. Ctrl-C stops the
 * following (Interrupted), never the job.
 */
export async function followOneJob(queue: Queue, jobId: string, redis?: Redis): Promise<FollowOutcome> {
  const interrupt = interruptSignal();
  try {
    return await followJob(queue, jobId, {
      progress: createProgress(process.stderr),
      signal: interrupt.signal,
      ...(redis ? { redis } : {}),
    });
  } finally {
    interrupt.dispose();
  }
}
