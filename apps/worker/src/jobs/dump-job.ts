import { BackupError, type DumpProgress, runDump, sweepOrphans } from '@pgbackup/backup-core';
import type { ParsedJobData } from '@pgbackup/queue';
import { backupIdForJob, type DumpJobResult, enqueueVerify } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import { serverPool } from '../locks/slot-pools.js';
import type { JobRun } from './job-run.js';
import { withSlot } from './with-slot.js';
import { withTargetLock } from './with-target-lock.js';

export async function runDumpJob(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'dump'>,
): Promise<DumpJobResult> {
  const target = await ctx.targets.resolve(data.target);
  if (target.discover) {
    throw new BackupError(
      'TARGET_UNKNOWN',
      `${target.name} names a server, not a database: its databases are the targets ${target.name}.<database> (backupctl status lists them)`,
    );
  }
  if (target.server !== undefined && target.name === `${target.server}.globals`) {
    throw new BackupError(
      'TARGET_UNKNOWN',
      `${target.name} holds the roles and tablespaces of ${target.server}, backed up by each run of ${target.server}, not by a dump of its own`,
    );
  }
  const backupId = backupIdForJob(target.name, run.job.id!, run.job.timestamp + (run.job.opts.delay ?? 0));
  const { result, runLogPath } = await withSlot(ctx, run, serverPool(ctx.config, target), (slot) =>
    withTargetLock(ctx, run, target.name, async (lock) => {
      // A lock lost mid-dump (a Redis outage longer than the lock) means another worker may now run
      // this target: stop rather than race it to the same file.
      const guard = new AbortController();
      const onAbort = () => guard.abort(run.signal.reason);
      run.signal.addEventListener('abort', onAbort, { once: true });
      lock.onLost(() =>
        guard.abort('the target lock was lost (Redis unreachable for longer than the lock?)'),
      );
      slot?.onLost(() =>
        guard.abort("the server's slot was lost (Redis unreachable for longer than the lock?)"),
      );
      try {
        const runLog = await run.openRunLog(target.name);
        // Holding the target's lock, any partial file of this target belongs to a dead run (another
        // worker that crashed mid-dump): remove it now rather than at that worker's next start.
        const swept = await sweepOrphans(ctx.config.backupDir, { target: target.name, foreignAfterMs: 0 });
        for (const file of swept.removed) await run.log(`removed ${file}, left by a dead run`);
        await runLog.line(
          `job ${run.job.id} (${data.origin}) attempt ${run.attempt}/${run.maxAttempts} on ${process.pid}`,
        );
        await run.log(`dumping ${target.displayUrl} as ${backupId} (run log ${runLog.path})`);
        let lastProgressAt = 0;
        const dumped = await runDump({
          target,
          backupDir: ctx.config.backupDir,
          logDir: ctx.config.logDir,
          ...(ctx.encryptionKey ? { encryptionKey: ctx.encryptionKey } : {}),
          backupId,
          jobId: run.job.id!,
          signal: guard.signal,
          stallTimeoutMs: ctx.config.worker.stallTimeoutMs,
          logger: run.logger,
          runLog,
          onProgress: (progress: DumpProgress) => {
            const now = Date.now();
            if (progress.phase === 'dumping' && now - lastProgressAt < 1_000) return;
            lastProgressAt = now;
            void run.job.updateProgress({ ...progress }).catch(() => undefined);
          },
        });
        run.summary(`job ${run.job.id}: backup ${dumped.manifest.id} complete`);
        return { result: dumped, runLogPath: runLog.path };
      } finally {
        run.signal.removeEventListener('abort', onAbort);
      }
    }),
  );
  const verifyJob = await enqueueVerify(ctx.queue, {
    backupId: result.manifest.id,
    level: target.verify,
    pruneAfter: true,
    origin: 'chain',
  });
  await run.log(
    `${result.reused ? 'backup already complete' : 'backup written'}: ${result.filePath} (${result.manifest.sizeBytes} bytes); verify job ${verifyJob.id} (${target.verify})`,
  );
  return {
    backupId: result.manifest.id,
    target: target.name,
    file: result.filePath,
    sizeBytes: result.manifest.sizeBytes,
    sha256: result.manifest.sha256,
    durationMs: result.manifest.durationMs,
    reused: result.reused,
    runLog: runLogPath,
    verifyJobId: verifyJob.id,
  };
}
