import type { TargetFailure } from '@pgbackup/backup-core';
import type { Job } from 'bullmq';
import { targetOfJob } from './job-target.js';
import { isRestoreJob } from './restore-replay.js';

/** A failed job as the health rule reads it (failureAnswered): when it failed, and its backup. */
export function failureOfJob(job: Pick<Job, 'data' | 'finishedOn'>): TargetFailure {
  const backupId = (job.data as { backupId?: unknown } | undefined)?.backupId;
  return {
    at: new Date(job.finishedOn ?? 0),
    ...(typeof backupId === 'string' ? { backupId } : {}),
  };
}

/**
 * Each target's newest final failure, restores aside (a restore replaces another database and
 * says nothing of the target's backups), from failed jobs listed newest first. What `status`,
 * the dashboard and its metrics hand to targetHealth as `lastFailure`.
 */
export function newestFailureByTarget(
  jobs: ReadonlyArray<Pick<Job, 'name' | 'data' | 'finishedOn'>>,
): Map<string, TargetFailure> {
  const newest = new Map<string, TargetFailure>();
  for (const job of jobs) {
    if (isRestoreJob(job) || !job.finishedOn) continue;
    const target = targetOfJob(job);
    if (target === undefined) continue;
    const failure = failureOfJob(job);
    const known = newest.get(target);
    if (!known || failure.at > known.at) newest.set(target, failure);
  }
  return newest;
}
