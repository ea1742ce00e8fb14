import { createHash } from 'node:crypto';
import { newBackupId, parseBackupId } from '@pgbackup/backup-core';
import type { Job } from 'bullmq';

/** The target a job is about, from its data (a backup id names its target). */
export function targetOfJob(job: Pick<Job, 'data'>): string | undefined {
  const data = (job.data ?? {}) as { target?: unknown; serverTarget?: unknown; backupId?: unknown };
  if (typeof data.target === 'string') return data.target;
  if (typeof data.backupId === 'string') {
    try {
      return parseBackupId(data.backupId).target;
    } catch {
      return undefined;
    }
  }
  return typeof data.serverTarget === 'string' ? data.serverTarget : undefined;
}

/**
 * The backup id of a dump job comes from the job, not from the clock of the attempt: a job re-run
 * after a worker crash finds the backup its first run completed instead of making a second one.
 */
export function backupIdForJob(target: string, jobId: string, scheduledAt: number): string {
  const suffix = createHash('sha256').update(jobId).digest('hex').slice(0, 6);
  return newBackupId(target, new Date(scheduledAt), suffix);
}
