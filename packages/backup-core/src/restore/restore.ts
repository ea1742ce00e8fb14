import { randomBytes } from 'node:crypto';
import type { OperatorKey } from '../crypto/index.js';
import { runDump } from '../dump/dump.js';
import { BackupError, isBackupError } from '../errors.js';
import { targetNamePattern } from '../ids.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  classifyPostgresError,
  connect,
  libpqEnvironment,
  type PgConnection,
  postgresError,
  withDatabase,
} from '../postgres/connection.js';
import { createScratchDatabase, quoteIdent } from '../postgres/scratch.js';
import { findPgTool } from '../postgres/tools.js';
import { findBackup } from '../storage/catalog.js';
import { decodeBackup } from '../verify/decode.js';
import { compareRowCounts } from '../verify/table-checks.js';
import { verifyBackup } from '../verify/verify.js';

export type RestorePhase = 'checking' | 'safety-dump' | 'restoring' | 'comparing' | 'swapping' | 'done';

export interface RestoreOptions {
  backupDir: string;
  logDir: string;
  id: string;
  /** Where to restore: `database` is the name the restored database gets. */
  to: PgConnection;
  /** Database to connect to for CREATE/ALTER/DROP DATABASE. Default `postgres`. */
  maintenanceDatabase?: string;
  /** Replace a database that holds tables (after a safety dump). Default false: refuse. */
  force?: boolean;
  keyring?: readonly OperatorKey[];
  /** Encrypts the safety dump when set. */
  encryptionKey?: OperatorKey;
  /** Skip ownership and grants (when the source's roles do not exist here). Default false. */
  noOwner?: boolean;
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
}

/**
 * Restores a backup into a database without ever leaving that database half-restored: the
 * backup's checksum is checked first (a corrupt backup is refused), the archive is restored into
 * a staging database with --exit-on-error and its row counts compared with the manifest, and only
 * then is the staging database renamed into place. A database that holds tables is replaced only
 * with `force`, and only after a safety dump of it has been written and checked.
 * Needs nothing but the backup file, its manifest and the server: no Redis, no queue.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const logger = (options.logger ?? silentLogger).child({ backupId: options.id, to: options.to.database });
  const phase = (name: RestorePhase) => options.onPhase?.(name);
  const keyring = options.keyring ?? [];
  const entry = await findBackup(options.backupDir, options.id);
  const server = withDatabase(options.to, options.maintenanceDatabase ?? 'postgres');

  phase('checking');
  await verifyBackup({
    backupDir: options.backupDir,
    id: options.id,
    level: 'checksum',
    keyring,
    ...(options.signal ? { signal: options.signal } : {}),
  }).catch((error: unknown) => {
    // A restore that cannot read the backup (no key, say) says why in the cause's own words.
    throw isBackupError(error, 'VERIFY_INCONCLUSIVE') && isBackupError(error.cause) ? error.cause : error;
  });

  const existing = await inspectDatabase(server, options.to.database);
  if (existing.exists && existing.tables > 0 && !options.force) {
    throw new BackupError(
      'RESTORE_TARGET_NOT_EMPTY',
      `database ${options.to.database} exists and holds ${existing.tables} table(s): refusing to replace it. ` +
        'Pass --force to replace it (a safety dump of it is taken first), or restore into a new database name.',
    );
  }

  let safetyBackupId: string | undefined;
  if (existing.exists && existing.tables > 0) {
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
    await verifyBackup({
      backupDir: options.backupDir,
      id: safety.manifest.id,
      level: 'checksum',
      keyring: options.encryptionKey ? [options.encryptionKey, ...keyring] : keyring,
    });
    safetyBackupId = safety.manifest.id;
    logger.info({ safetyBackupId }, 'safety dump of the database being replaced written and checked');
  }

  phase('restoring');
  const stagingName = shortName(options.to.database, `__restore_${randomBytes(3).toString('hex')}`);
  const staging = await createScratchDatabase(server, stagingName);
  let swapped = false;
  try {
    const pgRestore = await findPgTool('pg_restore', Number.parseInt(entry.manifest.pgDumpVersion, 10));
    const args = ['--exit-on-error', '--dbname', stagingName];
    if (options.noOwner) args.push('--no-owner', '--no-privileges');
    const outcome = await decodeBackup(entry, {
      keyring,
      consumer: {
        name: 'pg_restore',
        program: pgRestore.path,
        args,
        env: libpqEnvironment(withDatabase(server, stagingName)),
        failureCode: 'RESTORE_FAILED',
        classify: (stderr) => classifyPostgresError(stderr) ?? 'RESTORE_FAILED',
        stdout: 'ignore',
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (outcome.decodeError) throw outcome.decodeError;
    if (outcome.consumerError) throw outcome.consumerError;

    phase('comparing');
    const differences = compareRowCounts(entry.manifest, await staging.countRows(entry.manifest.tables));
    if (differences.length > 0) {
      throw new BackupError(
        'ROW_COUNT_MISMATCH',
        `restored data differs from the dump: ${differences.slice(0, 5).join('; ')}`,
      );
    }

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
  };
}

/** Target name under which the safety dump of a database is stored. */
export function safetyTargetName(database: string): string {
  const cleaned =
    `${database.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[._-]+/, '')}`.slice(0, 50) || 'database';
  const name = `${cleaned}.safety`;
  return targetNamePattern.test(name) ? name : 'database.safety';
}

function shortName(base: string, suffix: string): string {
  // Identifiers are cut at 63 bytes; cut the base (by characters, UTF-8 safe) rather than the suffix.
  let head = base;
  while (Buffer.byteLength(head + suffix) > 63) head = head.slice(0, -1);
  return head + suffix;
}

async function inspectDatabase(
  server: PgConnection,
  database: string,
): Promise<{ exists: boolean; tables: number }> {
  const admin = await connect(server);
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) return { exists: false, tables: 0 };
  } finally {
    await admin.end().catch(() => undefined);
  }
  const client = await connect(withDatabase(server, database));
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%'`,
    );
    return { exists: true, tables: Number(rows[0]!.n) };
  } finally {
    await client.end().catch(() => undefined);
  }
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
    const replaced = shortName(target, `__replaced_${randomBytes(3).toString('hex')}`);
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
