import { findTarget, parseBackupId, restoreBackup, targetDatabases } from '@pgbackup/backup-core';
import { type FetchedBackup, fetchBackup, RemoteStore } from '@pgbackup/backup-core/offsite';
import type { ParsedJobData, RestoreJobResult } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import { findDestination } from './copy-job.js';
import type { JobRun } from './job-run.js';

/**
 * Restores into a database on the server of a configured target (its credentials come from the
 * configuration: job data never carries a password). With `from`, the backup comes from that
 * destination's bucket (downloaded into the tmp area and checked first), so a worker that never
 * had the file restores it.
 */
export async function runRestoreJob(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'restore'>,
): Promise<RestoreJobResult> {
  const serverTarget = findTarget(ctx.config, data.serverTarget ?? parseBackupId(data.backupId).target);
  const runLog = await run.openRunLog(serverTarget.name);
  await runLog.line(
    `job ${run.job.id}: restore ${data.backupId}${data.from ? ` from ${data.from}` : ''} into ${data.database} on ${serverTarget.displayUrl} (force: ${data.force}, confirm: ${data.confirm ?? 'none'})`,
  );
  let fetched: FetchedBackup | undefined;
  const store = data.from === undefined ? undefined : new RemoteStore(findDestination(ctx, data.from));
  try {
    if (store) {
      void run.job.updateProgress({ phase: 'restore:download' }).catch(() => undefined);
      await run.log(`downloading ${data.backupId} from ${data.from}`);
      fetched = await fetchBackup(store, data.backupId, ctx.config.backupDir, 'restore', run.signal);
      await runLog.line(`downloaded ${fetched.remote.dataKey} from ${data.from}: size and SHA-256 match`);
    }
    const result = await restoreBackup({
      backupDir: ctx.config.backupDir,
      logDir: ctx.config.logDir,
      id: data.backupId,
      ...(fetched ? { source: fetched.entry } : {}),
      to: { ...serverTarget.connection, database: data.database },
      force: data.force,
      // Every configured target's database: the engine picks those on this server.
      protectedDatabases: targetDatabases(ctx.targets.all),
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
    const summary = `restored ${data.backupId}${data.from ? ` from ${data.from}` : ''} into ${data.database} in ${result.durationMs} ms${result.safetyBackupId ? ` (safety backup ${result.safetyBackupId})` : ''}`;
    run.summary(summary);
    return {
      backupId: data.backupId,
      database: data.database,
      serverTarget: serverTarget.name,
      durationMs: result.durationMs,
      safetyBackupId: result.safetyBackupId,
      replacedExisting: result.replacedExisting,
    };
  } finally {
    await fetched?.discard();
    store?.close();
  }
}
