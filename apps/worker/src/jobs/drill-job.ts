import { BackupError, catalogReadsBuckets, type DrillSource, runDrill } from '@pgbackup/backup-core';
import {
  bucketGlobalsSource,
  chooseDrillBackup,
  RemoteStore,
  remoteDrillSource,
} from '@pgbackup/backup-core/offsite';
import type { DrillJobResult, ParsedJobData } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import { drillPool } from '../locks/slot-pools.js';
import { delayJob } from './delay-job.js';
import type { JobRun } from './job-run.js';

/**
 * A restore drill of the target's newest verified backup (runDrill), holding one of the fleet's
 * drill slots. No target lock: a drill only reads the backup, and a drill of a large database
 * holding the lock for an hour would hold back that target's dumps. The prune cannot take the
 * backup away meanwhile, since retention always keeps the newest verified backups.
 *
 * A target whose catalog includes the buckets (local retention 0: its backups live in its
 * destinations) is drilled from that catalog: the newest verified backup of the union, which is
 * downloaded into the tmp area when only a bucket holds it, drilled, its drill recorded in the
 * manifest object, and the download removed whatever happens (offsite/remote-drill.ts).
 */
export async function runDrillJob(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'drill'>,
): Promise<DrillJobResult> {
  const target = await ctx.targets.resolveIfKnown(data.target);
  if (!target) {
    throw new BackupError(
      'TARGET_UNKNOWN',
      `no target named ${data.target}; expected one of: ${ctx.targets.all.map((t) => t.name).join(', ')}`,
    );
  }
  const server = target.drill.server;
  if (!server) {
    throw new BackupError(
      'DRILL_SERVER_MISSING',
      `target ${target.name} has no drill server; expected BACKUP_DRILL_DATABASE_URL, or drill: in its BACKUP_CONFIG entry`,
    );
  }
  // Not withSlot(): the slot is given back in this function's own finally, below.
  const budget = drillPool(ctx.config);
  const slot = await ctx.slots.tryAcquire(budget.pool, budget.limit);
  if (!slot) return delayJob(ctx, run, budget.busy);
  let fromBucket: Awaited<ReturnType<typeof bucketSource>>;
  try {
    const runLog = await run.openRunLog(target.name);
    await runLog.line(`job ${run.job.id} attempt ${run.attempt}/${run.maxAttempts}: drill of ${target.name}`);
    fromBucket = await bucketSource(ctx, target.name);
    if (fromBucket)
      await run.log(
        `the newest verified backup, ${fromBucket.source.manifest.id}, is only in ${fromBucket.source.destination}: downloading it for the drill`,
      );
    const result = await runDrill({
      backupDir: ctx.config.backupDir,
      target: target.name,
      server,
      targets: ctx.targets.all,
      allowTargetServer: ctx.config.drill.allowTargetServer,
      keyring: ctx.keyring,
      jobs: ctx.config.restoreJobs,
      ...(target.server !== undefined ? { globalsServer: target.server } : {}),
      // The server's globals backup is copied and pruned like the databases': maybe in a bucket only.
      ...(readsBuckets(ctx, target.name)
        ? { globalsSource: bucketGlobalsSource(ctx.config.backupDir, ctx.config.destinations) }
        : {}),
      ...(fromBucket ? { source: fromBucket.source } : {}),
      signal: run.signal,
      logger: run.logger,
      onPhase: (phase) => {
        void run.job.updateProgress({ phase: `drill:${phase}` }).catch(() => undefined);
      },
    });
    const { drill } = result;
    await run.log(
      drill.globals?.applied
        ? `globals ${drill.globals.backupId}${drill.globals.destination ? ` (downloaded from ${drill.globals.destination})` : ''} replayed on the drill server first${drill.globals.failed ? ` (${drill.globals.failed} statement(s) failed: ${drill.globals.note})` : ''}; restored with owners`
        : `no globals applied (${drill.globals?.note ?? 'none'}); restored without owners`,
    );
    if (drill.properties?.notes.length)
      await run.log(`database properties: ${drill.properties.notes.join('; ')}`);
    const download = drill.destination
      ? ` (of which ${drill.downloadMs} ms downloading it from ${drill.destination}; the drill is recorded in its manifest object there)`
      : '';
    await run.log(
      `drilled ${result.backupId} on ${drill.server}${drill.walLevel ? ` (wal_level ${drill.walLevel})` : ''}: restored and checked in ${drill.restoreMs} ms (RTO)${download}, backup age ${drill.backupAgeMs} ms (RPO)`,
    );
    run.summary(
      `drill of ${result.backupId} succeeded: RTO ${drill.restoreMs} ms, RPO ${drill.backupAgeMs} ms, ${drill.tables} tables`,
    );
    await ctx.drillAlerts.drillSucceeded(target.name);
    const maxRtoMs = ctx.config.drill.maxRtoMs;
    const rtoExceeded = maxRtoMs !== undefined && drill.restoreMs > maxRtoMs;
    if (rtoExceeded) ctx.drillAlerts.rtoExceeded(target.name, result.backupId, drill.restoreMs, maxRtoMs);
    return {
      backupId: result.backupId,
      target: target.name,
      ok: true,
      server: drill.server,
      ...(drill.walLevel ? { walLevel: drill.walLevel } : {}),
      restoreMs: drill.restoreMs,
      backupAgeMs: drill.backupAgeMs,
      bytes: drill.bytes,
      tables: drill.tables,
      rtoExceeded,
      ...(drill.globals?.applied && drill.globals.backupId
        ? { globalsBackupId: drill.globals.backupId }
        : {}),
      ...(drill.properties?.notes.length ? { notes: drill.properties.notes } : {}),
      ...(drill.destination ? { destination: drill.destination, downloadMs: drill.downloadMs } : {}),
    };
  } finally {
    fromBucket?.store.close();
    await slot.release();
  }
}

/**
 * The bucket the drill takes its backup from, when the target's catalog includes the buckets and
 * its newest verified backup is in one only; undefined when the local file is drilled.
 */
async function bucketSource(
  ctx: WorkerContext,
  target: string,
): Promise<{ store: RemoteStore; source: DrillSource } | undefined> {
  if (!readsBuckets(ctx, target)) return undefined;
  const choice = await chooseDrillBackup(ctx.config.backupDir, ctx.config.destinations, target);
  if (choice.local) return undefined;
  const store = new RemoteStore(choice.destination);
  return { store, source: remoteDrillSource(store, choice.remote, ctx.config.backupDir) };
}

/** Whether the target's catalog includes the buckets (catalogReadsBuckets: retention 0). */
function readsBuckets(ctx: WorkerContext, target: string): boolean {
  return catalogReadsBuckets(
    { backupDir: ctx.config.backupDir, targets: ctx.targets.all, destinations: ctx.config.destinations },
    target,
  );
}
