import { findBackup, parseBackupId, verifyBackup } from '@pgbackup/backup-core';
import type { ParsedJobData } from '@pgbackup/queue';
import { enqueueChainPrune, enqueueCopy, type VerifyJobResult } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import type { JobRun } from './job-run.js';
import { runRemoteVerifyJob } from './verify-remote.js';
import { startVerify } from './verify-start.js';

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
  const { target, level, engine, passed } = await startVerify(ctx, run, data, targetName);
  const result = await verifyBackup(engine);
  run.summary(`backup ${data.backupId} verified at level ${level} in ${result.verification.durationMs} ms`);
  await ctx.alerts.targetSucceeded(targetName, entry.manifest, result.verification.at);
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
    ...passed(result.verification),
    ...(result.verification.notes ? { notes: result.verification.notes } : {}),
    pruneJobId,
    ...(copyJobIds.length === 0 ? {} : { copyJobIds }),
  };
}
