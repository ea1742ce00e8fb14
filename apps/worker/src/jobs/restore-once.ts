import { type Job, UnrecoverableError } from 'bullmq';
import type { WorkerContext } from '../context.js';

/**
 * A field of the job's own Redis hash, set when a restore starts. BullMQ's retry (even with
 * resetAttemptsMade and resetAttemptsStarted) only deletes its own fields, so the mark survives
 * a retry, a replay of a completed job and a re-run after a stall; it goes when the job is removed.
 */
export const restoreStartedField = 'pgbackupRestoreStartedAt';

/**
 * A restore runs at most once: it replaces a database, and re-running it later would throw away
 * whatever was written since. backupctl and the dashboard refuse to retry restore jobs; this is
 * the check that still holds when a job is moved back by hand in Redis or by an older client.
 * HSETNX makes it atomic, so two workers racing for a stalled job cannot both pass.
 */
export async function claimRestoreRun(ctx: Pick<WorkerContext, 'queue' | 'redis'>, job: Job): Promise<void> {
  const key = ctx.queue.toKey(job.id!);
  const now = new Date().toISOString();
  const claimed = (await ctx.redis.hsetnx(key, restoreStartedField, now)) === 1;
  // attemptsMade and attemptsStarted also catch a job retried before this mark existed.
  if (claimed && job.attemptsMade === 0 && job.attemptsStarted <= 1) return;
  const startedAt = claimed ? 'before' : `at ${await ctx.redis.hget(key, restoreStartedField)}`;
  throw new UnrecoverableError(
    `RESTORE_ALREADY_RAN: restore job ${job.id} already started ${startedAt} and a restore runs at most once ` +
      '(it was retried, replayed or re-run after a crash); nothing was restored. To restore again, ' +
      'run a new `backupctl restore <backup-id> --to <database>`',
  );
}
