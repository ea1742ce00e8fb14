import { RemoteStore, verifyRemoteBackup } from '@pgbackup/backup-core/offsite';
import type { ParsedJobData, VerifyJobResult } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import { findDestination } from './copy-job.js';
import type { JobRun } from './job-run.js';

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
  const target = await ctx.targets.resolveIfKnown(targetName);
  const level = data.level ?? target?.verify ?? 'read';
  const runLog = await run.openRunLog(targetName);
  await runLog.line(
    `job ${run.job.id} attempt ${run.attempt}/${run.maxAttempts}: verify ${data.backupId} in ${destination.name} at level ${level}`,
  );
  await run.log(`verifying the copy of ${data.backupId} in ${destination.name} at level ${level}`);
  const store = new RemoteStore(destination);
  try {
    const result = await verifyRemoteBackup(store, {
      backupDir: ctx.config.backupDir,
      id: data.backupId,
      level,
      keyring: ctx.keyring,
      ...(target ? { scratchServer: target.connection } : {}),
      signal: run.signal,
      logger: run.logger,
      onPhase: (phase) => {
        void run.job.updateProgress({ phase: `verify:${phase}` }).catch(() => undefined);
      },
    });
    run.summary(
      `copy of ${data.backupId} in ${destination.name} verified at level ${level} in ${result.verification.durationMs} ms (recorded in its manifest object)`,
    );
    return {
      backupId: data.backupId,
      target: targetName,
      level,
      ok: true,
      durationMs: result.verification.durationMs,
      destination: destination.name,
    };
  } finally {
    store.close();
  }
}
