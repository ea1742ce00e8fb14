import type { TargetFailure } from '@pgbackup/backup-core';
import { FAILED_JOBS_JUDGED, newestFailureByTarget } from '@pgbackup/queue';
import type { Job, Queue } from 'bullmq';
import { withTimeout } from './timeout.js';

/**
 * The newest failed jobs, as many as the health rule judges (FAILED_JOBS_JUDGED); null when Redis
 * could not be read in time, so a page says it does not know rather than "ok". Read once per
 * page view: the verdicts and the target page's list of failed jobs both come from it.
 */
export async function recentFailedJobs(queue: Queue, timeoutMs = 3_000): Promise<Job[] | null> {
  try {
    return await withTimeout(queue.getFailed(0, FAILED_JOBS_JUDGED - 1), timeoutMs, 'Redis');
  } catch {
    return null;
  }
}

/** Each target's newest final failure (restores and drills aside), for targetStatuses; null: unknown. */
export function failuresOf(jobs: readonly Job[] | null): Map<string, TargetFailure> | null {
  return jobs === null ? null : newestFailureByTarget(jobs);
}
