import type { Job } from 'bullmq';
import { jobNames } from './names.js';

/**
 * Restore jobs are never retried: a restore replaces a database, so running it again days later
 * (failed jobs are kept 90 days, still carrying `force`) would throw away everything written
 * since. The operator runs a new `backupctl restore` instead, deciding again. The worker refuses
 * a replayed restore too (RESTORE_ALREADY_RAN); this is the CLI's clear answer before that.
 */
export function isRestoreJob(job: Pick<Job, 'name'>): boolean {
  return job.name === jobNames.restore;
}

/** The command to run instead, from the job's data (force left out: the operator decides again). */
export function restoreAgainCommand(job: Pick<Job, 'data'>): string {
  const data = (job.data ?? {}) as { backupId?: unknown; database?: unknown };
  const backupId = typeof data.backupId === 'string' ? data.backupId : '<backup-id>';
  const database = typeof data.database === 'string' ? data.database : '<database>';
  return `backupctl restore ${backupId} --to ${database} --wait`;
}

/** One line on what the restore job was, for messages: `backup X into database Y`. */
export function describeRestore(job: Pick<Job, 'data'>): string {
  const data = (job.data ?? {}) as { backupId?: unknown; database?: unknown; force?: unknown };
  const force = data.force === true ? ', with force' : '';
  return `backup ${String(data.backupId ?? '?')} into database ${String(data.database ?? '?')}${force}`;
}
