import {
  type BackupConfig,
  type CatalogEntry,
  checkRestoreDatabaseName,
  type DestinationConfig,
  findTarget,
  loadKeyring,
  restoreBackup,
  sameHost,
  type TargetConfig,
  targetDatabases,
} from '@pgbackup/backup-core';
import { type FetchedBackup, fetchBackup, RemoteStore } from '@pgbackup/backup-core/offsite';
import { enqueueRestore, parseJobResult, type RestoreJobResult } from '@pgbackup/queue';
import { failureOf, type JobFailure } from '../chain.js';
import type { CliContext } from '../context.js';
import { chooseDestination, remoteManifest } from '../destination.js';
import { CliError, exitCodes, Interrupted } from '../exit-codes.js';
import { followOneJob, interruptSignal } from '../follow.js';
import { humanDuration } from '../output.js';
import { createProgress } from '../progress.js';
import { resolveBackup } from '../resolve.js';
import { newestGlobals, serverOfBackup } from '../server-of-backup.js';
import { replayGlobals } from './restore-globals.js';

/** `restore --json`. `mode: direct` ran in this process (no job). */
export interface RestoreDocument {
  mode: 'queue' | 'direct';
  job: { id: string } | null;
  /** `waiting` without --wait. */
  state: 'waiting' | 'completed' | 'failed';
  result: RestoreJobResult | null;
  failure: JobFailure | null;
}

interface RestoreOptions {
  to: string;
  force?: boolean;
  confirm?: string;
  owner?: boolean;
  wait?: boolean;
  direct?: boolean;
  withGlobals?: boolean;
  from?: string;
}

export async function restoreCommand(
  ctx: CliContext,
  backupId: string,
  options: RestoreOptions,
): Promise<number> {
  const config = ctx.config();
  // With --from, the manifest object names the backup's target: no local file is read.
  const source = options.from === undefined ? undefined : chooseDestination(config, options.from);
  const entry = source
    ? { manifest: await remoteManifest(source, backupId) }
    : await resolveBackup(config.backupDir, backupId);
  if (entry.manifest.format === 'globals') {
    throw new CliError(
      'USAGE',
      `${backupId} holds a server's roles and tablespaces, not a database: replay it with backupctl restore-globals ${backupId}`,
      exitCodes.usage,
    );
  }
  const { server, database } = restoreDestination(config, entry, options.to);
  const force = options.force === true;
  const noOwner = options.owner === false;
  const confirm = options.confirm;
  if (options.withGlobals) {
    // Roles first: the archive's owners and grants name them.
    const origin = serverOfBackup(config, entry);
    const globals =
      origin &&
      (await newestGlobals(config.backupDir, origin.discover ? origin.name : (origin.server ?? origin.name)));
    if (!globals) {
      throw new CliError(
        'BACKUP_NOT_FOUND',
        `no globals backup of the server of ${entry.manifest.target}: --with-globals needs a server target's <server>.globals backup`,
        exitCodes.usage,
      );
    }
    const replayed = await replayGlobals(ctx, config, globals, server, { dryRun: false, force: false });
    if (replayed.failed > 0) {
      throw new CliError(
        'RESTORE_FAILED',
        `${replayed.failed} statement(s) of globals ${globals.manifest.id} failed: the database was not restored`,
        exitCodes.failed,
      );
    }
  }
  ctx.out.note(
    `restoring ${backupId}${source ? ` from ${source.name}` : ''} into ${database} on ${server.displayUrl.replace(/\/[^/]*$/, '')} (credentials of target ${server.name})`,
  );
  if (options.direct)
    return restoreDirect(ctx, config, backupId, server, database, {
      force,
      noOwner,
      ...(confirm === undefined ? {} : { confirm }),
      ...(source === undefined ? {} : { source }),
    });

  const queue = await ctx.queue();
  const job = await enqueueRestore(queue, {
    backupId,
    database,
    serverTarget: server.name,
    force,
    ...(confirm === undefined ? {} : { confirm }),
    noOwner,
    ...(source === undefined ? {} : { from: source.name }),
    origin: 'manual',
  });
  await ctx.confirmReplicated();
  ctx.out.text(`restore job ${job.id}: enqueued (${backupId} into ${database} on ${server.name})`);
  if (!options.wait) {
    ctx.out.document({
      mode: 'queue',
      job: { id: job.id! },
      state: 'waiting',
      result: null,
      failure: null,
    } satisfies RestoreDocument);
    return exitCodes.ok;
  }
  const outcome = await followOneJob(queue, job.id!, await ctx.redis());
  if (outcome.state === 'failed') {
    const failure = failureOf(job.id!, 'restore', outcome.job.failedReason);
    ctx.out.text(`FAILED  restore of ${backupId} into ${database}: ${failure.reason}`);
    if (ctx.json) ctx.out.note(`backupctl: restore failed: ${failure.reason}`);
    ctx.out.document({
      mode: 'queue',
      job: { id: job.id! },
      state: 'failed',
      result: null,
      failure,
    } satisfies RestoreDocument);
    return exitCodes.failed;
  }
  const result = parseJobResult('restore', outcome.job.id, outcome.job.returnvalue);
  printResult(ctx, result);
  ctx.out.document({
    mode: 'queue',
    job: { id: job.id! },
    state: 'completed',
    result,
    failure: null,
  } satisfies RestoreDocument);
  return exitCodes.ok;
}

/** The restore in this process: needs the backup files, the keys and PostgreSQL, nothing else. */
async function restoreDirect(
  ctx: CliContext,
  config: BackupConfig,
  backupId: string,
  server: TargetConfig,
  database: string,
  flags: { force: boolean; noOwner: boolean; confirm?: string; source?: DestinationConfig },
): Promise<number> {
  const { encryptionKey, keyring } = await loadKeyring(config);
  const progress = createProgress(process.stderr);
  const label = `restore ${server.name}`;
  // Here Ctrl-C does abort: the restore is this process. It stops cleanly (the staging database
  // is dropped, the existing database untouched).
  const interrupt = interruptSignal();
  let current = 'restore:starting';
  const ticker = setInterval(() => progress.update({ label, phase: current }), 1_000);
  const store = flags.source ? new RemoteStore(flags.source) : undefined;
  let fetched: FetchedBackup | undefined;
  try {
    if (store) {
      current = 'restore:download';
      progress.update({ label, phase: current });
      fetched = await fetchBackup(store, backupId, config.backupDir, 'restore', interrupt.signal);
    }
    const result = await restoreBackup({
      backupDir: config.backupDir,
      logDir: config.logDir,
      id: backupId,
      ...(fetched ? { source: fetched.entry } : {}),
      to: { ...server.connection, database },
      force: flags.force,
      protectedDatabases: targetDatabases(config.targets),
      ...(flags.confirm === undefined ? {} : { confirm: flags.confirm }),
      noOwner: flags.noOwner,
      jobs: config.restoreJobs,
      keyring,
      ...(encryptionKey ? { encryptionKey } : {}),
      signal: interrupt.signal,
      onPhase: (phase) => {
        current = `restore:${phase}`;
        progress.update({ label, phase: current });
      },
    });
    progress.finish();
    const report: RestoreJobResult = {
      backupId,
      database,
      serverTarget: server.name,
      durationMs: result.durationMs,
      safetyBackupId: result.safetyBackupId,
      replacedExisting: result.replacedExisting,
    };
    printResult(ctx, report);
    ctx.out.document({
      mode: 'direct',
      job: null,
      state: 'completed',
      result: report,
      failure: null,
    } satisfies RestoreDocument);
    return exitCodes.ok;
  } catch (error) {
    progress.finish();
    if (interrupt.signal.aborted) throw new Interrupted(undefined);
    throw error;
  } finally {
    clearInterval(ticker);
    interrupt.dispose();
    await fetched?.discard();
    store?.close();
  }
}

function printResult(ctx: CliContext, result: RestoreJobResult): void {
  const replaced = result.replacedExisting ? ' (replaced the existing database)' : '';
  const safety = result.safetyBackupId
    ? `; safety backup of the replaced database: ${result.safetyBackupId}`
    : '';
  ctx.out.text(
    `OK  restored ${result.backupId} into ${result.database} on ${result.serverTarget} in ${humanDuration(result.durationMs)}${replaced}${safety}`,
  );
}

/**
 * Where `--to` points. A name restores on the server of the backup's target. A URL must name the
 * host:port of a configured target: its credentials are used, because job data (stored in
 * Redis, shown in the dashboard) never carries a password.
 */
export function restoreDestination(
  config: BackupConfig,
  entry: Pick<CatalogEntry, 'manifest'>,
  to: string,
): { server: TargetConfig; database: string } {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) {
    checkRestoreDatabaseName(to);
    try {
      // A discovered database's backup restores on its server target's server.
      const server = serverOfBackup(config, entry);
      return { server: server ?? findTarget(config, entry.manifest.target), database: to };
    } catch (error) {
      throw new CliError(
        'TARGET_UNKNOWN',
        `the backup's target ${entry.manifest.target} is not configured, so there is no server to restore ${to} on`,
        exitCodes.usage,
        `Pass --to postgresql://host:port/${to} naming the server of a configured target. ${(error as Error).message}`,
      );
    }
  }
  if (!URL.canParse(to))
    throw new CliError('USAGE', `--to ${JSON.stringify(to)} is not a valid URL`, exitCodes.usage);
  const url = new URL(to);
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new CliError(
      'USAGE',
      `--to must be a postgresql:// URL or a database name, not ${url.protocol}//...`,
      exitCodes.usage,
    );
  }
  if (url.password !== '') {
    throw new CliError(
      'PASSWORD_IN_URL',
      '--to holds a password: job data never holds passwords (it is stored in Redis and shown in the dashboard)',
      exitCodes.usage,
      "Configure the credentials of a target on that server (its `url` or `passwordFile` in the config file, or DATABASE_URL / PGPASSWORD / PGPASSFILE), then pass --to postgresql://host:port/database without the password: the target's credentials are used.",
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new CliError(
      'USAGE',
      '--to: connection options (?...) are not supported; configure them on the target',
      exitCodes.usage,
    );
  }
  const host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 5432 : Number(url.port);
  const user = decodeURIComponent(url.username);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '') throw new CliError('USAGE', `--to ${to} names no database`, exitCodes.usage);
  checkRestoreDatabaseName(database);
  const onServer = config.targets.filter(
    (t) => sameHost(t.connection.host, host) && t.connection.port === port,
  );
  const candidates = user === '' ? onServer : onServer.filter((t) => t.connection.user === user);
  if (candidates.length === 0) {
    const known = config.targets.map(
      (t) => `${t.name} (${t.connection.user}@${t.connection.host}:${t.connection.port})`,
    );
    throw new CliError(
      'SERVER_UNKNOWN',
      `no configured target is on ${user ? `${user}@` : ''}${host}:${port}: a restore uses the credentials of a configured target`,
      exitCodes.usage,
      `Configured targets: ${known.join(', ') || 'none'}. Add a target for that server, or pass a database name to restore on the server of the backup's target.`,
    );
  }
  const server = candidates.find((t) => t.name === entry.manifest.target) ?? candidates[0]!;
  return { server, database };
}
