import type { TargetFailure } from '@pgbackup/backup-core';
import type { Job } from 'bullmq';
import { targetOfJob } from './job-target.js';
import { jobNames } from './names.js';
import { isRestoreJob } from './restore-replay.js';

/**
 * How many of the newest failed jobs the health rule reads, in `status`, the dashboard and its
 * metrics alike: the same jobs, the same verdict.
 */
export const FAILED_JOBS_JUDGED = 1_000;

/** A failed job as the health rule reads it (failureAnswered): when it failed, and its backup. */
export function failureOfJob(job: Pick<Job, 'name' | 'data' | 'finishedOn'>): TargetFailure {
  const { backupId, destination } = (job.data ?? {}) as { backupId?: unknown; destination?: unknown };
  return {
    at: new Date(job.finishedOn ?? 0),
    ...(typeof backupId === 'string' ? { backupId } : {}),
    ...(job.name === jobNames.copy && typeof destination === 'string' ? { copyTo: destination } : {}),
  };
}

/**
 * Whether a failed job says something about its target's backups: not a restore (it replaces
 * another database) nor a drill (a drill that proves a backup bad records a failed verification
 * on it, which the health rule reads; one that fails for its drill server has its own alerts,
 * drill_failed and pgbackup_drill_last_failed, and leaves the backup verified).
 */
export function countsAgainstTarget(job: Pick<Job, 'name'>): boolean {
  return !isRestoreJob(job) && job.name !== jobNames.drill;
}

/**
 * Each target's newest final failure that counts against it (countsAgainstTarget), from failed
 * jobs listed newest first: what the dashboard and its metrics hand to targetHealth as
 * `lastFailure`, as `status` does.
 */
export function newestFailureByTarget(
  jobs: ReadonlyArray<Pick<Job, 'name' | 'data' | 'finishedOn'>>,
): Map<string, TargetFailure> {
  const newest = new Map<string, TargetFailure>();
  for (const job of jobs) {
    if (!countsAgainstTarget(job) || !job.finishedOn) continue;
    const target = targetOfJob(job);
    if (target === undefined) continue;
    const failure = failureOfJob(job);
    const known = newest.get(target);
    if (!known || failure.at > known.at) newest.set(target, failure);
  }
  return newest;
}
