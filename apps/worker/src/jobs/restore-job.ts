import { findTarget, parseBackupId, restoreBackup, targetDatabases } from '@pgbackup/backup-core';
import type { ParsedJobData, RestoreJobResult } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import type { JobRun } from './job-run.js';

/**
 * Restores into a database on the server of a configured target (its credentials come from the
 * configuration: job data never carries a password).
 */
export async function runRestoreJob(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'restore'>,
): Promise<RestoreJobResult> {
  const serverTarget = findTarget(ctx.config, data.serverTarget ?? parseBackupId(data.backupId).target);
  const runLog = await run.openRunLog(serverTarget.name);
  await runLog.line(
    `job ${run.job.id}: restore ${data.backupId} into ${data.database} on ${serverTarget.displayUrl} (force: ${data.force}, confirm: ${data.confirm ?? 'none'})`,
  );
  const result = await restoreBackup({
    backupDir: ctx.config.backupDir,
    logDir: ctx.config.logDir,
    id: data.backupId,
    to: { ...serverTarget.connection, database: data.database },
    force: data.force,
    // Every configured target's database: the engine picks those on this server.
    protectedDatabases: targetDatabases(ctx.config.targets),
    ...(data.confirm === undefined ? {} : { confirm: data.confirm }),
    noOwner: data.noOwner,
    jobs: ctx.config.restoreJobs,
    keyring: ctx.keyring,
    ...(ctx.encryptionKey ? { encryptionKey: ctx.encryptionKey } : {}),
    signal: run.signal,
    logger: run.logger,
    onPhase: (phase) => {
      void run.job.updateProgress({ phase: `restore:${phase}` }).catch(() => undefined);
      void run.log(`restore phase: ${phase}`).catch(() => undefined);
    },
  });
  const summary = `restored ${data.backupId} into ${data.database} in ${result.durationMs} ms${result.safetyBackupId ? ` (safety backup ${result.safetyBackupId})` : ''}`;
  run.summary(summary);
  return {
    backupId: data.backupId,
    database: data.database,
    serverTarget: serverTarget.name,
    durationMs: result.durationMs,
    safetyBackupId: result.safetyBackupId,
    replacedExisting: result.replacedExisting,
  };
}
