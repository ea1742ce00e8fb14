import { parseBackupId } from '@pgbackup/backup-core';
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

/**
 * The command to run instead, from the job's data (force left out: the operator decides again).
 * A restore into another target's server was asked for with a URL, which the job does not keep:
 * the command says to give `--to` as that server's URL.
 */
export function restoreAgainCommand(job: Pick<Job, 'data'>): string {
  const data = (job.data ?? {}) as {
    backupId?: unknown;
    database?: unknown;
    serverTarget?: unknown;
    from?: unknown;
  };
  const backupId = typeof data.backupId === 'string' ? data.backupId : '<backup-id>';
  const database = typeof data.database === 'string' ? data.database : '<database>';
  const from = typeof data.from === 'string' ? ` --from ${data.from}` : '';
  let ownTarget: string | undefined;
  try {
    ownTarget = typeof data.backupId === 'string' ? parseBackupId(data.backupId).target : undefined;
  } catch {
    ownTarget = undefined;
  }
  const elsewhere =
    typeof data.serverTarget === 'string' && data.serverTarget !== ownTarget
      ? ` (into ${database} on the server of target ${data.serverTarget}: give --to as postgresql://<that server>/${database})`
      : '';
  return `backupctl restore ${backupId} --to ${database}${from} --wait${elsewhere}`;
}

/** One line on what the restore job was, for messages: `backup X into database Y`. */
export function describeRestore(job: Pick<Job, 'data'>): string {
  const data = (job.data ?? {}) as { backupId?: unknown; database?: unknown; force?: unknown };
  const force = data.force === true ? ', with force' : '';
  return `backup ${String(data.backupId ?? '?')} into database ${String(data.database ?? '?')}${force}`;
}
