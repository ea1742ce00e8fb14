import { findBackup, parseBackupId, verifyBackup } from '@pgbackup/backup-core';
import type { ParsedJobData } from '@pgbackup/queue';
import { enqueueChainPrune, enqueueCopy, type VerifyJobResult } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import type { JobRun } from './job-run.js';
import { runRemoteVerifyJob } from './verify-remote.js';

export async function runVerifyJob(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'verify'>,
): Promise<VerifyJobResult> {
  if (data.destination !== undefined) {
    const { destination } = data;
    return runRemoteVerifyJob(ctx, run, { ...data, destination }, parseBackupId(data.backupId).target);
  }
  const entry = await findBackup(ctx.config.backupDir, data.backupId);
  const targetName = entry.manifest.target;
  // A backup may outlive its target's configuration (or be a safety dump): it can still be
  // verified; only the restore level needs a configured server for its scratch database.
  const target = await ctx.targets.resolveIfKnown(targetName);
  const level = data.level ?? target?.verify ?? 'read';
  const runLog = await run.openRunLog(targetName);
  await runLog.line(
    `job ${run.job.id} attempt ${run.attempt}/${run.maxAttempts}: verify ${data.backupId} at level ${level}`,
  );
  await run.log(`verifying ${data.backupId} at level ${level}`);
  const result = await verifyBackup({
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
  run.summary(`backup ${data.backupId} verified at level ${level} in ${result.verification.durationMs} ms`);
  await ctx.alerts.targetSucceeded(targetName);
  let pruneJobId: string | undefined;
  const copyJobIds: string[] = [];
  if (data.pruneAfter && target && target.destinations.length > 0) {
    // dump -> verify -> copy (one job per destination) -> prune: the last confirmed copy
    // enqueues the prune (copy-job.ts).
    for (const destination of target.destinations) {
      const copyJob = await enqueueCopy(ctx.queue, {
        backupId: data.backupId,
        destination,
        pruneAfter: true,
        origin: 'chain',
      });
      await run.log(`copy job ${copyJob.id} enqueued for ${destination}`);
      copyJobIds.push(copyJob.id!);
    }
  } else if (data.pruneAfter && target) {
    const pruneJob = await enqueueChainPrune(ctx.queue, targetName, data.backupId);
    pruneJobId = pruneJob.id;
    await run.log(`prune job ${pruneJobId} enqueued for ${targetName}`);
  }
  return {
    backupId: data.backupId,
    target: targetName,
    level,
    ok: true,
    durationMs: result.verification.durationMs,
    ...(result.verification.notes ? { notes: result.verification.notes } : {}),
    pruneJobId,
    ...(copyJobIds.length === 0 ? {} : { copyJobIds }),
  };
}
