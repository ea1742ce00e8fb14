import { randomBytes } from 'node:crypto';
import type { OperatorKey } from '../crypto/index.js';
import { runDump } from '../dump/dump.js';
import { BackupError, isBackupError, provesBackupDefect } from '../errors.js';
import { targetNamePattern } from '../ids.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  classifyPostgresError,
  connect,
  type PgConnection,
  pgRestoreInto,
  postgresError,
  withDatabase,
} from '../postgres/connection.js';
import { checkRestoreDatabaseName } from '../postgres/database-name.js';
import { createScratchDatabase, quoteIdent } from '../postgres/scratch.js';
import { findPgTool } from '../postgres/tools.js';
import { type CatalogEntry, findBackup, recordVerification } from '../storage/catalog.js';
import { decodeBackup } from '../verify/decode.js';
import { compareRowCounts } from '../verify/table-checks.js';
import { checkBackupFile, judgeConsumedIntegrity, verifyBackup } from '../verify/verify.js';
import { applyDatabaseProperties, readDatabaseProperties } from './database-properties.js';
import { describeContents, inspectDatabase } from './inspect.js';
import { restoreBackupInParallel } from './parallel-backup-restore.js';
import { checkConfirmation, type ProtectedDatabase } from './protected.js';
import { parallelRestorePays } from './seekable-archive.js';

export type RestorePhase = 'checking' | 'safety-dump' | 'restoring' | 'comparing' | 'swapping' | 'done';

export interface RestoreOptions {
  backupDir: string;
  logDir: string;
  id: string;
  /**
   * Where to restore: `database` is the name the restored database gets, a plain identifier (see
   * databaseNameRule), never template0, template1 or the maintenance database.
   */
  to: PgConnection;
  /** Database to connect to for CREATE/ALTER/DROP DATABASE. Default `postgres`. */
  maintenanceDatabase?: string;
  /** Replace a database that holds any object or large object (after a safety dump). Default false: refuse. */
  force?: boolean;
  /**
   * Databases configured targets back up. Replacing one of them (same host, port and name) also
   * needs `confirm` equal to its target's name. Default none.
   */
  protectedDatabases?: readonly ProtectedDatabase[];
  /** The name of the target whose database is being replaced, typed again (CLI --confirm). */
  confirm?: string;
  keyring?: readonly OperatorKey[];
  /**
   * The backup to restore when it is not in `backupDir`'s catalog: a download from a destination
   * (offsite/fetch-backup.ts). It is checked like a local one; the safety dump still goes to
   * `backupDir`.
   */
  source?: CatalogEntry;
  /** Encrypts the safety dump when set. */
  encryptionKey?: OperatorKey;
  /** Skip ownership and grants (when the source's roles do not exist here). Default false. */
  noOwner?: boolean;
  /**
   * pg_restore --jobs for a backup large enough that it pays (parallelRestorePays): the archive
   * is then decoded to a temporary file first, since parallel restore needs to seek. Default 1:
   * streamed, one job (BACKUP_RESTORE_JOBS gives the services' value, default the cores).
   */
  jobs?: number;
  /** Table data from which --jobs pays. Default PARALLEL_RESTORE_MIN_BYTES (64 MiB). */
  parallelMinBytes?: number;
  /** Where the decoded archive of a parallel restore is written. Default the system's (TMPDIR). */
  tempDir?: string;
  /** Restore while the archive is decoded (restoreBackupInParallel). Default overlapDecodePays(). */
  overlapDecode?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  onPhase?: (phase: RestorePhase) => void;
}

export interface RestoreResult {
  database: string;
  durationMs: number;
  /** The backup taken of the replaced database before it was replaced. */
  safetyBackupId?: string;
  replacedExisting: boolean;
  /** pg_restore jobs used: 1 when the archive was streamed. */
  jobs: number;
}

/**
 * Restores a backup into a database without ever leaving that database half-restored: the
 * archive is restored into a staging database with --exit-on-error, the backup's checksum checked
 * (in the same pass that decodes it; in a pass of its own first when a database is to be replaced,
 * so a corrupt backup is refused before any safety dump), its row counts compared with the
 * manifest, and only then is the staging database renamed into place; a failure of any of these
 * drops the staging database. A database that holds anything is replaced only
 * with `force`, and only after a safety dump of it has been written and read back in full; a
 * configured target's own database also needs `confirm`.
 * Needs nothing but the backup file, its manifest and the server: no Redis, no queue.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  // Before anything connects: a name is never let near a libpq tool unless it is a plain name.
  checkRestoreDatabaseName(options.to.database, options.maintenanceDatabase ?? 'postgres');
  const logger = (options.logger ?? silentLogger).child({ backupId: options.id, to: options.to.database });
  const phase = (name: RestorePhase) => options.onPhase?.(name);
  const keyring = options.keyring ?? [];
  const entry = options.source ?? (await findBackup(options.backupDir, options.id));
  const server = withDatabase(options.to, options.maintenanceDatabase ?? 'postgres');

  phase('checking');
  const existing = await inspectDatabase(server, options.to.database);
  const holds = describeContents(existing.contents);
  // A database about to be replaced costs a safety dump: the checksum is checked in a pass of its
  // own first, so that a corrupt backup never gets that far. Otherwise it is checked in the pass
  // that restores (one read of the backup, not two), before the restored database is compared,
  // renamed into place or reported good; a mismatch drops the staging database.
  const checkedFirst = holds !== undefined;
  if (checkedFirst) await checkChecksum(options, keyring);
  // What shows without reading the file (missing, empty, truncated) is told before anything is created.
  else await recordingDefects(options, entry, Date.now(), () => checkBackupFile(entry));
  if (existing.exists) checkConfirmation(options.protectedDatabases ?? [], options.to, options.confirm);
  if (holds && !options.force) {
    throw new BackupError(
      'RESTORE_TARGET_NOT_EMPTY',
      `database ${options.to.database} exists and holds ${holds}: refusing to replace it. ` +
        'Pass --force to replace it (a safety dump of it is taken first), or restore into a new database name.',
    );
  }

  let safetyBackupId: string | undefined;
  if (holds) {
    phase('safety-dump');
    const safety = await runDump({
      target: {
        name: safetyTargetName(options.to.database),
        connection: options.to,
        compression: 'zstd',
        suspiciousRatio: 0,
      },
      backupDir: options.backupDir,
      logDir: options.logDir,
      ...(options.encryptionKey ? { encryptionKey: options.encryptionKey } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      logger,
    });
    // `read` decodes the whole archive through pg_restore: a checksum alone would not notice a
    // dump that is intact as bytes but that pg_restore cannot read, and the original is dropped next.
    await verifyBackup({
      backupDir: options.backupDir,
      id: safety.manifest.id,
      level: 'read',
      keyring: options.encryptionKey ? [options.encryptionKey, ...keyring] : keyring,
    });
    safetyBackupId = safety.manifest.id;
    logger.info({ safetyBackupId }, 'safety dump of the database being replaced written and checked');
  }

  phase('restoring');
  const jobs = Math.max(1, Math.floor(options.jobs ?? 1));
  // Random hex only: nothing the caller chose ends up in a name handed to a tool.
  const stagingName = `pgbackup_restore_${randomBytes(6).toString('hex')}`;
  const staging = await createScratchDatabase(server, stagingName);
  let swapped = false;
  try {
    const pgRestore = await findPgTool('pg_restore', Number.parseInt(entry.manifest.pgDumpVersion, 10));
    const into = pgRestoreInto(withDatabase(server, stagingName));
    const args = ['--exit-on-error', ...into.args];
    if (options.noOwner) args.push('--no-owner', '--no-privileges');
    const classify = (stderr: string) => classifyPostgresError(stderr) ?? 'RESTORE_FAILED';
    // A parallel restore counts each table's rows as soon as its data is in (see restoreBackupInParallel).
    let counted: Map<string, number | undefined> | undefined;
    if (parallelRestorePays(entry.manifest, jobs, options.parallelMinBytes)) {
      const decoding = Date.now();
      const restored = await restoreBackupInParallel({
        entry,
        keyring,
        name: 'pg_restore',
        pgRestore: pgRestore.path,
        args,
        env: into.env,
        classify,
        jobs,
        database: staging,
        ...(options.tempDir ? { tempDir: options.tempDir } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        checkedPass: (pass) => checkedInPass(options, entry, decoding, checkedFirst, pass),
        checksumChecked: checkedFirst,
        ...(options.overlapDecode === undefined ? {} : { overlapDecode: options.overlapDecode }),
      });
      counted = restored.counts;
      if (restored.streamed.length > 0)
        logger.info(
          { tables: restored.streamed.map((table) => `${table.schema}.${table.name}`) },
          'loaded while the archive was decoded for the parallel restore',
        );
    } else {
      const decoding = Date.now();
      const outcome = await decodeBackup(entry, {
        keyring,
        consumer: {
          name: 'pg_restore',
          program: pgRestore.path,
          args,
          env: into.env,
          failureCode: 'RESTORE_FAILED',
          classify,
          stdout: 'ignore',
        },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      options.signal?.throwIfAborted();
      // The checksum first: a changed file explains whatever pg_restore or the decoder said.
      await checkedInPass(options, entry, decoding, checkedFirst, () =>
        judgeConsumedIntegrity(entry, outcome, {
          keyring,
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
      if (outcome.consumerError) throw outcome.consumerError;
    }

    phase('comparing');
    const differences = compareRowCounts(
      entry.manifest,
      counted ?? (await staging.countRows(entry.manifest.tables)),
    );
    if (differences.length > 0) {
      throw new BackupError(
        'ROW_COUNT_MISMATCH',
        `restored data differs from the dump: ${differences.slice(0, 5).join('; ')}`,
      );
    }

    // Owner, settings, comment and privileges of the database itself, which only --create would
    // apply: set on the staging database, they go with it through the rename (all by oid).
    const properties = await readDatabaseProperties(entry, keyring, pgRestore.path, options.signal);
    const applied = await applyDatabaseProperties(server, stagingName, properties, {
      ...(options.noOwner ? { noOwner: true } : {}),
    });
    logger.info({ applied }, "applied the database's own properties");

    phase('swapping');
    await swapInto(server, stagingName, options.to.database, existing.exists);
    swapped = true;
  } finally {
    if (!swapped)
      await staging
        .drop()
        .catch((error) => logger.error({ err: error }, 'could not drop the staging database'));
  }
  phase('done');
  return {
    database: options.to.database,
    durationMs: Date.now() - started,
    ...(safetyBackupId ? { safetyBackupId } : {}),
    replacedExisting: existing.exists,
    jobs: parallelRestorePays(entry.manifest, jobs, options.parallelMinBytes) ? jobs : 1,
  };
}

/** The checksum level of verifyBackup, in a pass of its own (recorded in the manifest, as always). */
async function checkChecksum(options: RestoreOptions, keyring: readonly OperatorKey[]): Promise<void> {
  await verifyBackup({
    backupDir: options.backupDir,
    id: options.id,
    level: 'checksum',
    keyring,
    ...(options.source ? { entry: options.source } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  }).catch((error: unknown) => {
    // A restore that cannot read the backup (no key, say) says why in the cause's own words.
    throw isBackupError(error, 'VERIFY_INCONCLUSIVE') && isBackupError(error.cause) ? error.cause : error;
  });
}

/**
 * Runs the pass that reads the backup and checks its checksum on the way (unless `checkedFirst`),
 * and records the outcome as a checksum verification, as the separate pass would have: passed, or
 * failed when it proves the backup bad (a changed file, a stream that does not decode). A backup
 * fetched from a destination (`source`) is not recorded here, as before.
 */
async function checkedInPass<T>(
  options: RestoreOptions,
  entry: CatalogEntry,
  started: number,
  checkedFirst: boolean,
  pass: () => Promise<T>,
): Promise<T> {
  if (checkedFirst) return pass();
  const result = await recordingDefects(options, entry, started, pass);
  if (options.source === undefined) {
    await recordVerification(options.backupDir, entry.manifest.id, {
      level: 'checksum',
      ok: true,
      at: new Date().toISOString(),
      durationMs: Date.now() - started,
    });
  }
  return result;
}

/** Runs `pass`; a failure that proves the backup bad is recorded as a failed checksum verification. */
async function recordingDefects<T>(
  options: RestoreOptions,
  entry: CatalogEntry,
  started: number,
  pass: () => Promise<T>,
): Promise<T> {
  try {
    return await pass();
  } catch (error) {
    if (!options.signal?.aborted && provesBackupDefect(error) && options.source === undefined) {
      await recordVerification(options.backupDir, entry.manifest.id, {
        level: 'checksum',
        ok: false,
        at: new Date().toISOString(),
        durationMs: Date.now() - started,
        errorCode: (error as BackupError).code,
        message: (error as Error).message.slice(0, 2000),
      }).catch(() => undefined);
    }
    throw error;
  }
}

/** Target name under which the safety dump of a database is stored. */
export function safetyTargetName(database: string): string {
  const cleaned =
    `${database.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[._-]+/, '')}`.slice(0, 50) || 'database';
  const name = `${cleaned}.safety`;
  return targetNamePattern.test(name) ? name : 'database.safety';
}

/** Renames the staging database into place; the replaced database is dropped once the swap is done. */
async function swapInto(
  server: PgConnection,
  staging: string,
  target: string,
  targetExists: boolean,
): Promise<void> {
  const admin = await connect(server);
  try {
    const replaced = `pgbackup_replaced_${randomBytes(6).toString('hex')}`;
    if (targetExists) {
      // Clients reconnect quickly: terminate and rename until the rename wins (a few tries).
      for (let attempt = 1; ; attempt++) {
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [target],
        );
        try {
          await admin.query(`ALTER DATABASE ${quoteIdent(target)} RENAME TO ${quoteIdent(replaced)}`);
          break;
        } catch (error) {
          if (attempt >= 10 || classifyPostgresError(String(error)) === 'PG_AUTH_FAILED') {
            throw postgresError(error, `could not move database ${target} aside`, 'RESTORE_FAILED');
          }
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
      }
    }
    try {
      await admin.query(`ALTER DATABASE ${quoteIdent(staging)} RENAME TO ${quoteIdent(target)}`);
    } catch (error) {
      // Put the original back rather than leave no database under the target's name.
      if (targetExists)
        await admin.query(`ALTER DATABASE ${quoteIdent(replaced)} RENAME TO ${quoteIdent(target)}`);
      throw error;
    }
    if (targetExists) await admin.query(`DROP DATABASE ${quoteIdent(replaced)} WITH (FORCE)`);
  } catch (error) {
    throw postgresError(error, `could not put the restored database in place of ${target}`, 'RESTORE_FAILED');
  } finally {
    await admin.end().catch(() => undefined);
  }
}
