import { randomBytes } from 'node:crypto';
import type { OperatorKey } from '../crypto/index.js';
import { BackupError } from '../errors.js';
import {
  classifyPostgresError,
  type PgConnection,
  pgRestoreInto,
  withDatabase,
} from '../postgres/connection.js';
import { createScratchDatabase } from '../postgres/scratch.js';
import { findPgTool } from '../postgres/tools.js';
import { restoreBackupInParallel } from '../restore/parallel-backup-restore.js';
import type { CatalogEntry } from '../storage/catalog.js';
import {
  checkRestoredDatabaseProperties,
  type PropertyCheckResult,
} from '../verify/database-property-check.js';
import { compareRowCounts } from '../verify/table-checks.js';
import { checkBackupFile, classifyScratchServerError } from '../verify/verify.js';

/**
 * The drill's restore with `pg_restore --jobs`, as a real restore of a large backup runs it
 * (restoreBackup, restoreBackupInParallel): the archive decoded to a seekable temporary file, its
 * checksum checked in the same pass (no pass of its own; a missing, empty or truncated file is
 * refused before the scratch database is created), restored in parallel into a scratch database
 * with --exit-on-error, row counts compared (each table counted as soon as its data is in, while
 * the restore goes on), the scratch database and the temporary file removed whatever happens. Throws the codes verifyBackup's
 * restore level would (a defect of the backup, or an environment failure).
 */
export async function parallelScratchRestore(
  entry: CatalogEntry,
  options: {
    server: PgConnection;
    jobs: number;
    keyring: readonly OperatorKey[];
    /** Restore with owners and privileges (the server's globals were replayed). Default false. */
    withOwners?: boolean;
    tempDir?: string;
    signal?: AbortSignal;
  },
): Promise<PropertyCheckResult> {
  const { manifest } = entry;
  const signal = options.signal ? { signal: options.signal } : {};
  const pgRestore = await findPgTool('pg_restore', Number.parseInt(manifest.pgDumpVersion, 10));
  await checkBackupFile(entry);
  const scratch = await createScratchDatabase(
    options.server,
    `pgbackup_drill_${randomBytes(5).toString('hex')}`,
  );
  try {
    const into = pgRestoreInto(withDatabase(options.server, scratch.name));
    const { counts: counted } = await restoreBackupInParallel({
      entry,
      keyring: options.keyring,
      name: 'pg_restore (into a scratch database)',
      pgRestore: pgRestore.path,
      args: [
        '--exit-on-error',
        ...(options.withOwners ? [] : ['--no-owner', '--no-privileges']),
        // The drill server has none of the source's tablespace directories.
        '--no-tablespaces',
        ...into.args,
      ],
      env: into.env,
      jobs: options.jobs,
      classify: (stderr) =>
        classifyPostgresError(stderr) ??
        classifyScratchServerError(stderr, options.withOwners ?? false) ??
        'RESTORE_FAILED',
      database: scratch,
      ...(options.tempDir ? { tempDir: options.tempDir } : {}),
      ...signal,
    });
    const differences = compareRowCounts(manifest, counted);
    if (differences.length > 0) {
      throw new BackupError(
        'ROW_COUNT_MISMATCH',
        `after restore, ${differences.length} table(s) differ from the counts taken at dump time: ${differences.slice(0, 5).join('; ')}`,
      );
    }
    return await checkRestoredDatabaseProperties({
      entry,
      keyring: options.keyring,
      pgRestore: pgRestore.path,
      server: options.server,
      database: scratch.name,
      ...signal,
    });
  } finally {
    await scratch.drop();
  }
}
