import type { TargetFailure } from '@pgbackup/backup-core';
import { FAILED_JOBS_JUDGED, newestFailureByTarget } from '@pgbackup/queue';
import type { Queue } from 'bullmq';
import { withTimeout } from './timeout.js';

/**
 * Each target's newest final failure (restores and drills aside), for targetStatuses; null when Redis could
 * not be read in time, so the page says it does not know rather than "ok".
 */
export async function recentFailures(
  queue: Queue,
  timeoutMs = 3_000,
): Promise<Map<string, TargetFailure> | null> {
  try {
    return newestFailureByTarget(
      await withTimeout(queue.getFailed(0, FAILED_JOBS_JUDGED - 1), timeoutMs, 'Redis'),
    );
  } catch {
    return null;
  }
}
