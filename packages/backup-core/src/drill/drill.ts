import type { OperatorKey } from '../crypto/index.js';
import { BackupError, isBackupError, provesBackupDefect } from '../errors.js';
import { globalsTargetName } from '../globals/dump-globals.js';
import { restoreGlobals } from '../globals/restore-globals.js';
import { type Logger, silentLogger } from '../logger.js';
import { type Drill, isVerified, type Manifest, type Verification } from '../manifest.js';
import type { PgConnection } from '../postgres/connection.js';
import { parallelRestorePays } from '../restore/seekable-archive.js';
import { type CatalogEntry, findBackup, listBackups, recordDrill } from '../storage/catalog.js';
import { verifyBackup } from '../verify/verify.js';
import { checkDrillServer, drillServerLabel, drillServerWalLevel } from './drill-server.js';
import { parallelScratchRestore } from './parallel-restore.js';

export type DrillPhase = 'download' | 'globals' | 'restoring' | 'recording';

/**
 * Where the drilled backup comes from and where its drill is recorded. The default is the local
 * backup directory; a backup kept only in a destination's bucket (local retention 0) comes from
 * `remoteDrillSource` (offsite/remote-drill.ts): downloaded into the tmp area, size and SHA-256
 * checked, the drill recorded in its manifest object.
 */
export interface DrillSource {
  /** The backup's manifest as the source holds it. */
  manifest: Manifest;
  /** The destination it is downloaded from (recorded in the drill); undefined for the local file. */
  destination?: string;
  /**
   * Makes the backup's file readable on this host. A failure that proves the backup bad
   * (SIZE_MISMATCH, CHECKSUM_MISMATCH, BACKUP_FILE_MISSING) is recorded as a failed drill; any
   * other says nothing about the backup.
   */
  fetch(signal?: AbortSignal): Promise<CatalogEntry>;
  /** Removes what `fetch` left on this host; runDrill calls it whatever happened. */
  discard(): Promise<void>;
  /** Appends the drill (and, for a drill that proved the backup bad, the failed verification). */
  record(drill: Drill, verification: Verification | undefined): Promise<Manifest>;
}

export interface DrillOptions {
  backupDir: string;
  /** The target whose newest verified backup is drilled. */
  target: string;
  /**
   * The drill server. `database` is the one connected to for CREATE and DROP DATABASE (its
   * maintenance database, usually `postgres`); the scratch database is created beside it.
   */
  server: PgConnection;
  /** Configured targets: a drill server that is one of their servers is refused. Default none. */
  targets?: readonly { name: string; connection: PgConnection }[];
  /** Drill on a configured target's own server all the same. Default false. */
  allowTargetServer?: boolean;
  /**
   * The server target `target` was discovered on: its newest verified globals backup
   * (`<server>.globals`) is replayed on the drill server first (existing roles skipped, never
   * forced), and the backup is then restored with its owners and privileges. Without it, or
   * without such a backup, the drill restores without owners and records that no globals were
   * applied.
   */
  globalsServer?: string;
  /**
   * Where that globals backup comes from, given its target name (`<server>.globals`), instead of
   * the newest verified one in `backupDir`: the worker's chooses from the union catalog when it
   * includes the buckets (retention 0), so the globals may be downloaded too. Undefined when there
   * is no verified globals backup. The source is discarded after the replay.
   */
  globalsSource?: (globalsTarget: string) => Promise<DrillSource | undefined>;
  /** Drill this backup (of `target`) instead of the newest verified one. */
  id?: string;
  /** A backup that is not in `backupDir` (see DrillSource); `id` is then ignored. */
  source?: DrillSource;
  keyring?: readonly OperatorKey[];
  /**
   * pg_restore --jobs when the backup is large enough that it pays (parallelRestorePays), as a
   * real restore would run (BACKUP_RESTORE_JOBS). Default 1: streamed.
   */
  jobs?: number;
  /** Table data from which --jobs pays. Default 64 MiB. */
  parallelMinBytes?: number;
  /** Where a parallel drill decodes the archive. Default the system's (TMPDIR). */
  tempDir?: string;
  signal?: AbortSignal;
  logger?: Logger;
  onPhase?: (phase: DrillPhase) => void;
}

export interface DrillResult {
  backupId: string;
  manifest: Manifest;
  drill: Drill;
}

/**
 * A restore drill: the target's newest verified backup is restored into a scratch database on the
 * drill server (created from template0, `pg_restore --exit-on-error`), every table's row count is
 * compared with the counts taken at dump time, and the scratch database is dropped, also on
 * failure. The result (outcome, restore time = RTO, backup age = RPO, bytes, tables) is appended
 * to the manifest in one atomic write.
 *
 * A drill that proves the backup bad is recorded as a failed drill together with a failed
 * `restore` verification (so the backup no longer counts as verified, for retention and health
 * alike), then throws with the defect's code. A drill that could not run (the drill server down,
 * refused, full) records nothing and throws with the cause's own code: the backup stays verified.
 *
 * With `source`, the backup comes from elsewhere (a destination's bucket, DrillSource): fetched
 * first (the download counts in the RTO, as it would in a restore from the bucket), drilled the
 * same way, the result recorded by the source, and what the fetch left removed whatever happens.
 */
export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  checkDrillServer(options.server, options.targets ?? [], options.allowTargetServer ?? false);
  const source = options.source ?? localDrillSource(options.backupDir, await backupToDrill(options));
  try {
    if (source.manifest.target !== options.target) {
      throw new BackupError(
        'BACKUP_NOT_FOUND',
        `backup ${source.manifest.id} belongs to target ${source.manifest.target}, not ${options.target}`,
      );
    }
    return await drillFrom(source, options);
  } finally {
    await source.discard();
  }
}

async function drillFrom(source: DrillSource, options: DrillOptions): Promise<DrillResult> {
  const { manifest } = source;
  const logger = (options.logger ?? silentLogger).child({
    target: options.target,
    backupId: manifest.id,
    drillServer: drillServerLabel(options.server),
    ...(source.destination === undefined ? {} : { destination: source.destination }),
  });
  const started = new Date();
  // Read beside the download and the restore; never fails (undefined when unreadable).
  const walLevel = drillServerWalLevel(options.server);
  let failure: unknown;
  let entry: CatalogEntry | undefined;
  if (source.destination !== undefined) options.onPhase?.('download');
  try {
    entry = await source.fetch(options.signal);
  } catch (error) {
    failure = error;
  }
  const fetchMs = Date.now() - started.getTime();
  throwUnlessDefect(manifest.id, failure, options.signal);

  let globals: NonNullable<Drill['globals']> | undefined;
  let properties: Drill['properties'];
  const jobs = Math.max(1, Math.floor(options.jobs ?? 1));
  const parallel = parallelRestorePays(manifest, jobs, options.parallelMinBytes);
  if (entry) {
    if (options.globalsServer !== undefined) options.onPhase?.('globals');
    try {
      globals = await applyServerGlobals(options, logger);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // The globals backup, or the drill server, failed: that says nothing about this backup.
      throw couldNotRun(manifest.id, error);
    }
    // Owners only when every role and membership replayed: a drill server whose role may not create
    // roles (globals.failed) still drills, without owners, rather than failing every time.
    const withOwners = globals.applied && globals.rolesFailed === undefined;
    options.onPhase?.('restoring');
    try {
      properties = await restoreAndCheck(entry, options, { parallel, jobs, withOwners, logger });
    } catch (error) {
      failure = error;
    }
  }
  const ended = new Date();
  throwUnlessDefect(manifest.id, failure, options.signal);
  const serverWalLevel = await walLevel;

  const errorFields =
    failure === undefined
      ? {}
      : {
          errorCode: (failure as BackupError).code,
          message: (failure as Error).message.slice(0, 2000),
        };
  const drill: Drill = {
    ok: failure === undefined,
    startedAt: started.toISOString(),
    at: ended.toISOString(),
    restoreMs: ended.getTime() - started.getTime(),
    backupAgeMs: Math.max(0, started.getTime() - Date.parse(manifest.createdAt)),
    bytes: manifest.sizeBytes,
    tables: manifest.tableCount,
    rows: manifest.tables.reduce((sum, table) => sum + table.rows, 0),
    server: drillServerLabel(options.server),
    jobs: parallel ? jobs : 1,
    ...(serverWalLevel === undefined ? {} : { walLevel: serverWalLevel }),
    ...(globals ? { globals } : {}),
    ...(properties ? { properties } : {}),
    ...(source.destination === undefined ? {} : { destination: source.destination, downloadMs: fetchMs }),
    ...errorFields,
  };
  const verification: Verification | undefined =
    failure === undefined
      ? undefined
      : { level: 'restore', ok: false, at: drill.at, durationMs: drill.restoreMs, ...errorFields };
  options.onPhase?.('recording');
  const updated = await source.record(drill, verification);
  if (failure !== undefined) {
    logger.error({ errorCode: drill.errorCode }, 'drill failed: the backup does not restore');
    throw failure;
  }
  logger.info({ restoreMs: drill.restoreMs, backupAgeMs: drill.backupAgeMs }, 'drill succeeded');
  return { backupId: manifest.id, manifest: updated, drill };
}

/** The restore into a scratch database and its checks: streamed, or with --jobs when that pays. */
async function restoreAndCheck(
  entry: CatalogEntry,
  options: DrillOptions,
  how: { parallel: boolean; jobs: number; withOwners: boolean; logger: Logger },
): Promise<NonNullable<Drill['properties']>> {
  if (how.parallel) {
    const checked = await parallelScratchRestore(entry, {
      server: options.server,
      jobs: how.jobs,
      keyring: options.keyring ?? [],
      withOwners: how.withOwners,
      ...(options.tempDir ? { tempDir: options.tempDir } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { compared: checked.compared, notes: checked.notes };
  }
  const verified = await verifyBackup({
    backupDir: options.backupDir,
    id: entry.manifest.id,
    entry,
    level: 'restore',
    keyring: options.keyring ?? [],
    scratchServer: options.server,
    scratchPrefix: 'pgbackup_drill',
    withOwners: how.withOwners,
    // A drill server has none of the source's tablespace directories (nor, mostly, its tablespaces).
    noTablespaces: true,
    // Recorded by runDrill as a drill, with the verification it implies.
    record: false,
    logger: how.logger,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return {
    compared: verified.propertiesCompared ?? [],
    notes: verified.verification.notes ?? [],
  };
}

/**
 * An aborted drill (timeout, shutdown) says nothing about the backup, whatever pg_restore said;
 * nor does a failure that proves no defect (the drill server down, S3 away): both throw, and
 * nothing is recorded. Returns when there is no failure or a defect to record.
 */
function throwUnlessDefect(id: string, failure: unknown, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw failure ?? signal.reason;
  if (failure !== undefined && !provesBackupDefect(failure)) throw couldNotRun(id, failure);
}

/** The target's newest verified backup in the local backup directory, if any. */
async function newestLocalVerified(backupDir: string, target: string): Promise<DrillSource | undefined> {
  const { entries } = await listBackups(backupDir, { target });
  const newest = entries.find((entry) => isVerified(entry.manifest));
  return newest ? localDrillSource(backupDir, newest) : undefined;
}

/** A backup in the local backup directory, its drill recorded in its manifest file. */
export function localDrillSource(backupDir: string, entry: CatalogEntry): DrillSource {
  return {
    manifest: entry.manifest,
    fetch: async () => entry,
    discard: async () => undefined,
    record: (drill, verification) => recordDrill(backupDir, entry.manifest.id, drill, verification),
  };
}

/**
 * Replays the newest verified globals backup of the target's server on the drill server, roles
 * that exist there skipped (never --force: the drill server's own roles are not changed).
 * A statement that fails (a tablespace whose directory the drill server lacks) is counted and
 * named, and the drill goes on: a role it needs and lacks fails the restore as the server's fault.
 * A globals backup kept only in a bucket (`globalsSource`) is downloaded first and removed after.
 */
async function applyServerGlobals(
  options: DrillOptions,
  logger: Logger,
): Promise<NonNullable<Drill['globals']>> {
  if (options.globalsServer === undefined)
    return {
      applied: false,
      note: `target ${options.target} is not a discovered database of a server target`,
    };
  const target = globalsTargetName(options.globalsServer);
  const source = options.globalsSource
    ? await options.globalsSource(target)
    : await newestLocalVerified(options.backupDir, target);
  if (!source)
    return {
      applied: false,
      note: `no verified globals backup of server ${options.globalsServer} (${target})`,
    };
  let result: Awaited<ReturnType<typeof restoreGlobals>>;
  try {
    result = await restoreGlobals({
      backupDir: options.backupDir,
      id: source.manifest.id,
      entry: await source.fetch(options.signal),
      keyring: options.keyring ?? [],
      server: options.server,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } finally {
    await source.discard();
  }
  const failed = result.steps.filter((step) => step.action === 'failed');
  const rolesFailed = failed.filter(
    (step) => step.kind === 'create-role' || step.kind === 'grant-membership',
  ).length;
  if (failed.length > 0)
    logger.warn({ globalsBackupId: source.manifest.id, failed: failed.length }, 'some globals did not apply');
  return {
    applied: true,
    backupId: source.manifest.id,
    ...(source.destination === undefined ? {} : { destination: source.destination }),
    ...(failed.length > 0
      ? {
          failed: failed.length,
          ...(rolesFailed > 0 ? { rolesFailed } : {}),
          note: failed
            .slice(0, 3)
            .map((step) => `${step.kind} ${step.name ?? ''}: ${step.reason ?? ''}`.slice(0, 300))
            .join('; '),
        }
      : {}),
  };
}

/** The given backup (checked to be the target's), or the target's newest verified one. */
async function backupToDrill(options: DrillOptions): Promise<CatalogEntry> {
  // Checked to be the target's by runDrill, as a source's is.
  if (options.id !== undefined) return findBackup(options.backupDir, options.id);
  const listing = await listBackups(options.backupDir, { target: options.target });
  const newest = listing.entries.find((entry) => isVerified(entry.manifest));
  if (!newest) {
    throw new BackupError(
      'BACKUP_NOT_FOUND',
      `target ${options.target} has no verified backup to drill (${listing.entries.length} backup(s) in all): ` +
        `expected one; \`backupctl backups --target ${options.target}\` lists them`,
    );
  }
  return newest;
}

/** Not the backup's fault: the cause's own code (retried when retrying can help), the state unchanged. */
function couldNotRun(id: string, failure: unknown): unknown {
  const cause =
    isBackupError(failure, 'VERIFY_INCONCLUSIVE') && isBackupError(failure.cause) ? failure.cause : failure;
  if (!(cause instanceof BackupError)) return failure;
  return new BackupError(
    cause.code,
    `the drill of backup ${id} could not run: ${cause.message} (a failure of the drill server or of this host, not of the backup: its state is unchanged)`,
    { cause: failure, ...(cause.details ? { details: cause.details } : {}) },
  );
}
