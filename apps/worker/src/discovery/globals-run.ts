import { dumpGlobals, globalsTarget, type TargetConfig } from '@pgbackup/backup-core';
import { backupIdForJob, enqueueVerify } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import type { JobRun } from '../jobs/job-run.js';
import { withTargetLock } from '../jobs/with-target-lock.js';

/**
 * Once per server run: the server's roles and tablespaces as backup `<server>.globals`, then its
 * verify job (which chains copy and prune, like a database's). The id comes from the discover
 * job, so a re-run of the job finds the backup its first run wrote.
 */
export async function backUpGlobals(ctx: WorkerContext, run: JobRun, server: TargetConfig) {
  const target = globalsTarget(server);
  const backupId = backupIdForJob(target.name, run.job.id!, run.job.timestamp + (run.job.opts.delay ?? 0));
  const dumped = await withTargetLock(ctx, run, target.name, async () => {
    const runLog = await run.openRunLog(server.name);
    return dumpGlobals({
      server: server.name,
      connection: server.connection,
      backupDir: ctx.config.backupDir,
      ...(ctx.encryptionKey ? { encryptionKey: ctx.encryptionKey } : {}),
      backupId,
      jobId: run.job.id!,
      noRolePasswords: server.discover?.noRolePasswords ?? false,
      signal: run.signal,
      runLog,
      onWarning: (message) => run.logger.warn({ server: server.name }, message),
    });
  });
  const verifyJob = await enqueueVerify(ctx.queue, {
    backupId: dumped.manifest.id,
    level: target.verify,
    pruneAfter: true,
    origin: 'chain',
  });
  await run.log(
    `globals ${dumped.reused ? 'already backed up' : 'backed up'}: ${dumped.manifest.id} (${dumped.manifest.sizeBytes} bytes); verify job ${verifyJob.id}`,
  );
  return { backupId: dumped.manifest.id, verifyJobId: verifyJob.id };
}
