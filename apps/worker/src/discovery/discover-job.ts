import { createHash } from 'node:crypto';
import { BackupError, describeSkip, discoverDatabases, type TargetConfig } from '@pgbackup/backup-core';
import {
  type DiscoverJobResult,
  enqueuePrune,
  jobNames,
  markWatched,
  type ParsedJobData,
  recordDiscovery,
} from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import type { JobRun } from '../jobs/job-run.js';
import { backUpGlobals } from './globals-run.js';

/**
 * One run of a server target: list its databases, record what changed (announcing each new and
 * each vanished database once), then enqueue a dump of every database as its own target, and a
 * prune of each vanished one (its backups follow retention without new dumps to trigger it).
 * Job ids are derived from this job's id: a discover job re-run after a crash enqueues the same
 * dumps, which BullMQ answers with the existing jobs (exactly one dump per database per slot).
 * The dumps themselves queue for the server's slots (jobs/with-slot.ts, pool `servers:<name>`).
 */
export async function runDiscoverJob(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'discover'>,
): Promise<DiscoverJobResult> {
  const server = await ctx.targets.resolve(data.server);
  const rule = server.discover;
  if (!rule) {
    throw new BackupError(
      'TARGET_UNKNOWN',
      `target ${server.name} does not discover databases (no databases: in its configuration, no BACKUP_DISCOVER); expected a server target`,
    );
  }
  const runLog = await run.openRunLog(server.name);
  const found = await discoverDatabases(server.name, server.connection, rule);
  const changes = await refreshDiscovery(ctx, server, found.databases);
  await runLog.line(
    `discovered ${found.databases.length} database(s) on ${server.displayUrl}: ${found.databases.map((d) => d.target).join(', ') || '(none)'}`,
  );
  for (const skip of found.skipped)
    await runLog.line(`skipped ${JSON.stringify(skip.database)}: ${describeSkip(skip.reason)}`);

  const slot = createHash('sha256').update(run.job.id!).digest('hex').slice(0, 12);
  const databases: DiscoverJobResult['databases'] = [];
  for (const item of found.databases) {
    const job = await ctx.queue.add(
      jobNames.dump,
      { target: item.target, origin: data.origin === 'manual' ? 'manual' : 'schedule' },
      { jobId: `dump-${item.target}-${slot}` },
    );
    databases.push({ database: item.database, target: item.target, dumpJobId: job.id! });
  }
  for (const gone of changes.vanished)
    await enqueuePrune(
      ctx.queue,
      { target: gone.target, origin: 'chain' },
      { jobId: `prune-vanished-${gone.target}-${slot}` },
    );
  // After the dumps are enqueued: a failure here retries the job, which enqueues the same dumps.
  const globals = await backUpGlobals(ctx, run, server);
  const summary = `${server.name}: globals ${globals.backupId}, ${databases.length} dump(s) enqueued, ${changes.added.length} new, ${changes.vanished.length} vanished, ${found.skipped.length} skipped`;
  run.summary(summary);
  await run.log(summary);
  return {
    server: server.name,
    globalsBackupId: globals.backupId,
    ...(globals.verifyJobId ? { globalsVerifyJobId: globals.verifyJobId } : {}),
    databases,
    discovered: changes.added.map((entry) => entry.target),
    vanished: changes.vanished.map((entry) => entry.target),
    skipped: found.skipped,
  };
}

/**
 * Records a discovery in Redis, announces what changed (only the caller that changed a field
 * announces it), and refreshes this worker's target list. Also used at worker start.
 */
export async function refreshDiscovery(
  ctx: WorkerContext,
  server: TargetConfig,
  found: ReadonlyArray<{ database: string; target: string }>,
) {
  const changes = await recordDiscovery(ctx.redis, ctx.config.redis.prefix, server.name, found);
  // A new database's grace period (no verified backup yet) starts now.
  await markWatched(
    ctx.redis,
    ctx.config.redis.prefix,
    changes.added.map((entry) => entry.target),
  );
  for (const entry of changes.added) ctx.alerts.databaseDiscovered(server.name, entry.target, entry.database);
  for (const entry of changes.vanished)
    ctx.alerts.databaseVanished(server.name, entry.target, entry.database);
  await ctx.targets.refresh();
  return changes;
}

/**
 * At worker start: discover every server target once, so status, alerts and the next run know
 * its databases. A server that cannot be reached is logged, not fatal: its scheduled run will
 * try again (and fail visibly).
 */
export async function discoverAtStart(ctx: WorkerContext): Promise<void> {
  for (const server of ctx.config.targets) {
    if (!server.discover) continue;
    try {
      const found = await discoverDatabases(server.name, server.connection, server.discover);
      await refreshDiscovery(ctx, server, found.databases);
      ctx.logger.info(
        { server: server.name, databases: found.databases.length, skipped: found.skipped.length },
        'discovery at start',
      );
    } catch (error) {
      ctx.logger.warn({ server: server.name, err: (error as Error).message }, 'discovery at start failed');
    }
  }
  await ctx.targets.refresh().catch(() => undefined);
}
