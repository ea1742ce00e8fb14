import { dropCopy, isBackupError, provesBackupDefect } from '@pgbackup/backup-core';
import { RemoteStore, verifyRemoteBackup } from '@pgbackup/backup-core/offsite';
import type { ParsedJobData, VerifyJobResult } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import { findDestination } from './copy-job.js';
import type { JobRun } from './job-run.js';
import { startVerify } from './verify-start.js';

/**
 * Verifies a backup's copy in a destination (`verify --destination`): no local file needed, so
 * any worker sharing the bucket can check what another one copied. Never continues a chain.
 */
export async function runRemoteVerifyJob(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'verify'> & { destination: string },
  targetName: string,
): Promise<VerifyJobResult> {
  const destination = findDestination(ctx, data.destination);
  const { level, engine, passed } = await startVerify(ctx, run, data, targetName, destination.name);
  const store = new RemoteStore(destination);
  try {
    const result = await verifyRemoteBackup(store, engine).catch(async (error: unknown) => {
      if (provesBackupDefect(error)) await stopCountingCopy(ctx, run, data.backupId, destination.name);
      throw error;
    });
    run.summary(
      `copy of ${data.backupId} in ${destination.name} verified at level ${level} in ${result.verification.durationMs} ms (recorded in its manifest object)`,
    );
    return { ...passed(result.verification), destination: destination.name };
  } finally {
    store.close();
  }
}

/**
 * A copy proved bad no longer counts where this worker keeps the backup: the local manifest's
 * copy record goes, so the local retention keeps the file for it (awaiting-copy), status and the
 * metrics show the destination behind once it is late, and a copy job uploads it again.
 */
async function stopCountingCopy(
  ctx: WorkerContext,
  run: JobRun,
  backupId: string,
  destination: string,
): Promise<void> {
  try {
    if (await dropCopy(ctx.config.backupDir, backupId, destination)) {
      await run.log(
        `the copy in ${destination} proved bad: it no longer counts; \`backupctl copy ${backupId} --destination ${destination} --wait\` uploads it again`,
      );
    }
  } catch (error) {
    // Not on this host (a bucket-only backup, or a worker that never dumped the target): its
    // manifest object holds the failed verification. Any other failure is said, never in place
    // of the verification's own error, which the job fails with.
    if (!isBackupError(error, 'BACKUP_NOT_FOUND'))
      await run.log(`could not stop counting the copy in ${destination} here: ${(error as Error).message}`);
  }
}
