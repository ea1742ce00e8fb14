import {
  type BackupConfig,
  type CatalogEntry,
  checkRestoreDatabaseName,
  type DestinationConfig,
  type FetchedBackup,
  fetchBackup,
  findTarget,
  loadKeyring,
  RemoteStore,
  restoreBackup,
  sameHost,
  type TargetConfig,
  targetDatabases,
} from '@pgbackup/backup-core';
import { enqueueRestore, parseJobResult, type RestoreJobResult } from '@pgbackup/queue';
import type { Command } from 'commander';
import { action, examples } from '../action.js';
import { failureOf, type JobFailure } from '../chain.js';
import type { CliContext } from '../context.js';
import { chooseDestination, remoteManifest } from '../destination.js';
import { CliError, exitCodes, Interrupted } from '../exit-codes.js';
import { followOneJob, interruptSignal } from '../follow.js';
import { humanDuration } from '../output.js';
import { createProgress } from '../progress.js';
import { resolveBackup } from '../resolve.js';

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
  from?: string;
}

export function registerRestore(program: Command): void {
  program
    .command('restore')
    .summary('restore a backup into a database')
    .description('restore a backup into a database (never half-restored: staged, checked, then swapped in)')
    .argument('<backup-id>', 'a backup id, as `backupctl backups` lists them')
    .requiredOption(
      '--to <database|url>',
      "a plain database name (letters, digits, _ and $; on the server of the backup's target), or " +
        'postgresql://[user@]host:port/database on the server of a configured target, whose credentials are used (no password in the URL)',
    )
    .option(
      '-f, --force',
      'replace a database that holds anything: tables, views, sequences, functions, types, large objects (a safety dump of it is taken first)',
    )
    .option(
      '--confirm <target>',
      "the target's name, typed again, to replace the very database a configured target backs up",
    )
    .option('--no-owner', "skip ownership and grants (when the backup's roles do not exist on that server)")
    .option('-w, --wait', 'follow the restore job; exit 1 if it fails')
    .option(
      '--direct',
      'restore in this process from the files alone, without Redis or a worker (disaster recovery)',
    )
    .option(
      '--from <destination>',
      "restore from a destination's bucket alone (no local file needed): downloaded, its size and SHA-256 checked against the manifest object, then restored as a local backup would be",
    )
    .addHelpText(
      'after',
      examples([
        'backupctl restore 20261125T020000123Z-app-1a2b3c --to app_copy --wait',
        'backupctl restore 20261125T020000123Z-app-1a2b3c --to app --force --confirm app --wait',
        'backupctl restore 20261125T020000123Z-app-1a2b3c --to postgresql://db2.internal:5432/app --direct',
        'backupctl restore 20261125T020000123Z-app-1a2b3c --to app_copy --from s3 --direct',
      ]),
    )
    .action(action(restoreCommand));
}

async function restoreCommand(ctx: CliContext, backupId: string, options: RestoreOptions): Promise<number> {
  const config = ctx.config();
  // With --from, the manifest object names the backup's target: no local file is read.
  const source = options.from === undefined ? undefined : chooseDestination(config, options.from);
  const entry = source
    ? { manifest: await remoteManifest(source, backupId) }
    : await resolveBackup(config.backupDir, backupId);
  const { server, database } = restoreDestination(config, entry, options.to);
  const force = options.force === true;
  const noOwner = options.owner === false;
  const confirm = options.confirm;
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
    server: server.name,
    force,
    ...(confirm === undefined ? {} : { confirm }),
    noOwner,
    ...(source === undefined ? {} : { from: source.name }),
    origin: 'manual',
  });
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
      server: server.name,
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
    `OK  restored ${result.backupId} into ${result.database} on ${result.server} in ${humanDuration(result.durationMs)}${replaced}${safety}`,
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
      return { server: findTarget(config, entry.manifest.target), database: to };
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
