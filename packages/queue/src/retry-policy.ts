import { type BackupConfig, BackupError, redactSecrets } from '@pgbackup/backup-core';
import { type Job, type JobsOptions, UnrecoverableError } from 'bullmq';
import { formatFailureReason } from './failure-reason.js';
import { InvalidJobDataError } from './job-kinds.js';

/**
 * The retry policy, whole: how often and how late a job is tried again (job options), which
 * failures are not worth another attempt (UnrecoverableError), and when a failure is final.
 */

/**
 * Completed jobs kept for Bull Board and `backupctl jobs`: the newest this many, none older than 30
 * days. The count is per queue, so it is what sets Redis's size at fleet scale: a completed job
 * costs about 2 to 5 KB with its log (a prune's return value lists a decision per backup kept),
 * and a scheduled run of a target leaves three (dump, verify, prune). At 5,000, 500 targets carried
 * about 30 KB each once the bound was reached; at 1,000, the goal of 10 KB per target holds
 * (docs/reliability.md, Redis per target) and a small fleet still keeps 30 days (10 targets run 30
 * jobs a day). What a completed job recorded lives on: the backup's manifest and its run log.
 */
const COMPLETED_JOBS_KEPT = 1_000;

/**
 * Why a job enqueued earlier may be gone from the queue, in the words every "no longer in the
 * queue" message uses: it completed, and newer completed jobs pushed it out (failed ones stay).
 */
export const completedJobsKeptNote = `it keeps the newest ${COMPLETED_JOBS_KEPT.toLocaleString('en-US')} completed jobs`;

/** Every job: exponential backoff with jitter, recent history kept for the dashboard. */
export function defaultJobOptions(config: BackupConfig): JobsOptions {
  return {
    attempts: config.worker.attempts,
    backoff: { type: 'exponential', delay: config.worker.backoffMs, jitter: 0.5 },
    removeOnComplete: { age: 30 * 86_400, count: COMPLETED_JOBS_KEPT },
    // Failed jobs are kept by age alone: each must stay visible, and retriable, until dealt with.
    removeOnFail: { age: 90 * 86_400 },
  };
}

/** A restore replaces a database: it is never tried again without an operator deciding so. */
export const restoreJobOptions = { attempts: 1 } as const satisfies JobsOptions;

/** The code of a failure, as its reason will start. */
export function errorCodeOf(error: unknown): string {
  if (error instanceof BackupError) return error.code;
  if (error instanceof InvalidJobDataError) return 'JOB_DATA_INVALID';
  return 'INTERNAL';
}

/**
 * What BullMQ sees of a failure: errors that retrying cannot fix (bad credentials, a missing
 * database, a corrupt backup, invalid job data) become UnrecoverableError, so the job fails at
 * once instead of spending its attempts; the message always starts with the error code.
 */
export function toJobError(error: unknown): Error {
  // The reason is stored in Redis and shown by the CLI and the dashboard: URL passwords are hidden.
  const message = formatFailureReason(
    errorCodeOf(error),
    redactSecrets(error instanceof Error ? error.message : String(error)),
  );
  const retryable = error instanceof BackupError ? error.retryable : !(error instanceof InvalidJobDataError);
  if (!retryable) return new UnrecoverableError(message);
  const wrapped = new Error(message, { cause: error });
  wrapped.name = error instanceof Error ? error.name : 'Error';
  return wrapped;
}

/**
 * Whether this failure ends the job: retrying cannot help, or no attempt is left. `attemptsMade`
 * counts the attempt that just failed (as BullMQ's `failed` event reports it).
 */
export function isFinalFailure(job: Pick<Job, 'attemptsMade' | 'opts'>, error: Error): boolean {
  return (
    error instanceof UnrecoverableError ||
    error.name === 'UnrecoverableError' ||
    job.attemptsMade >= (job.opts.attempts ?? 1)
  );
}
