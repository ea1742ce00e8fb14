import type {
  Logger,
  OperatorKey,
  PgConnection,
  TargetConfig,
  Verification,
  VerifyLevel,
} from '@pgbackup/backup-core';
import type { ParsedJobData, VerifyJobResult } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import type { JobRun } from './job-run.js';

/** The options the local engine (`verifyBackup`) and the remote one (`verifyRemoteBackup`) share. */
export interface VerifyEngineOptions {
  backupDir: string;
  id: string;
  level: VerifyLevel;
  keyring: readonly OperatorKey[];
  scratchServer?: PgConnection;
  signal: AbortSignal;
  logger: Logger;
  onPhase: (phase: string) => void;
}

export interface VerifyStart {
  /** Undefined when the backup outlived its target's configuration. */
  target: TargetConfig | undefined;
  level: VerifyLevel;
  engine: VerifyEngineOptions;
  /** What every verify job returns once the engine passed the backup; each job adds its own fields. */
  passed(
    verification: Verification,
  ): Pick<VerifyJobResult, 'backupId' | 'target' | 'level' | 'ok' | 'durationMs'>;
}

/**
 * The start of every verification, of a local backup or of its copy in `destination`: the level
 * (asked, else the target's, else `read`), the run log's first line, the job log, and the engine's
 * options. A backup may outlive its target's configuration (or be a safety dump): it can still be
 * verified; only the restore level needs a configured server for its scratch database.
 */
export async function startVerify(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'verify'>,
  targetName: string,
  destination?: string,
): Promise<VerifyStart> {
  const target = await ctx.targets.resolveIfKnown(targetName);
  const level = data.level ?? target?.verify ?? 'read';
  const where = destination === undefined ? '' : ` in ${destination}`;
  const runLog = await run.openRunLog(targetName);
  await runLog.line(
    `job ${run.job.id} attempt ${run.attempt}/${run.maxAttempts}: verify ${data.backupId}${where} at level ${level}`,
  );
  const what = destination === undefined ? data.backupId : `the copy of ${data.backupId}${where}`;
  await run.log(`verifying ${what} at level ${level}`);
  return {
    target,
    level,
    engine: {
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
    },
    passed: (verification) => ({
      backupId: data.backupId,
      target: targetName,
      level,
      ok: true,
      durationMs: verification.durationMs,
    }),
  };
}
