import {
  BackupError,
  currentCopies,
  type DestinationConfig,
  findBackup,
  recordCopy,
} from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import { type CopyJobResult, enqueueChainPrune, type ParsedJobData } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import type { JobRun } from './job-run.js';

/**
 * Copies a local backup to one destination. The copy counts once the object is confirmed (size
 * and SHA-256) and the remote manifest written; only then is it recorded in the local manifest.
 * A re-run whose copy was already confirmed checks the object again instead of uploading twice.
 */
export async function runCopyJob(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'copy'>,
): Promise<CopyJobResult> {
  const destination = findDestination(ctx, data.destination);
  const entry = await findBackup(ctx.config.backupDir, data.backupId);
  const targetName = entry.manifest.target;
  const runLog = await run.openRunLog(targetName);
  const store = new RemoteStore(destination);
  try {
    await runLog.line(
      `job ${run.job.id} attempt ${run.attempt}/${run.maxAttempts}: copy ${data.backupId} to ${destination.name}`,
    );
    const started = Date.now();
    const earlier = entry.manifest.copies?.find((copy) => copy.destination === destination.name);
    let reused = false;
    let copy = earlier;
    let partSize: number | undefined;
    let parts: number | undefined;
    if (earlier) {
      try {
        copy = await store.confirm(entry.manifest, earlier.key);
        await store.find(data.backupId);
        reused = true;
      } catch (error) {
        if (!(error instanceof BackupError) || error.retryable) throw error;
        copy = undefined;
      }
    }
    if (!copy) {
      await run.log(`copying ${data.backupId} (${entry.manifest.sizeBytes} bytes) to ${destination.name}`);
      const result = await store.upload(entry, {
        signal: run.signal,
        onProgress: (progress) => {
          void run.job
            .updateProgress({
              phase: 'copy:upload',
              destination: destination.name,
              loadedBytes: progress.loadedBytes,
              totalBytes: progress.totalBytes,
            })
            .catch(() => undefined);
        },
      });
      copy = result.copy;
      partSize = result.partSize;
      parts = result.parts;
    }
    const updated = await recordCopy(ctx.config.backupDir, data.backupId, copy);
    const summary = `backup ${data.backupId} ${reused ? 'already' : 'now'} in ${destination.name} as ${copy.key} (confirmed ${copy.sizeBytes} bytes, SHA-256 ${copy.sha256.slice(0, 12)}…)`;
    run.summary(summary);
    await run.log(summary);
    await ctx.alerts.copySucceeded(targetName, destination.name);

    let pruneJobId: string | undefined;
    const target = await ctx.targets.resolveIfKnown(targetName);
    const copied = new Set(
      (currentCopies(updated, ctx.config.destinations).copies ?? []).map((c) => c.destination),
    );
    if (data.pruneAfter && target?.destinations.every((name) => copied.has(name))) {
      // The last destination to confirm starts the prune: a local retention of 0 ("keep only
      // until copied") must not remove the file while another destination still reads it.
      const pruneJob = await enqueueChainPrune(ctx.queue, targetName, data.backupId);
      pruneJobId = pruneJob.id;
      await run.log(`prune job ${pruneJobId} enqueued for ${targetName}`);
    }
    return {
      backupId: data.backupId,
      target: targetName,
      destination: destination.name,
      bucket: copy.bucket,
      key: copy.key,
      sizeBytes: copy.sizeBytes,
      sha256: copy.sha256,
      confirmedAt: copy.confirmedAt,
      reused,
      ...(partSize === undefined ? {} : { partSize }),
      ...(parts === undefined ? {} : { parts }),
      durationMs: Date.now() - started,
      pruneJobId,
    };
  } finally {
    store.close();
  }
}

export function findDestination(ctx: Pick<WorkerContext, 'config'>, name: string): DestinationConfig {
  const destination = ctx.config.destinations.find((d) => d.name === name);
  if (destination) return destination;
  const known = ctx.config.destinations.map((d) => d.name).join(', ') || '(none configured)';
  throw new BackupError('DESTINATION_UNKNOWN', `no destination named ${name}; configured: ${known}`);
}
