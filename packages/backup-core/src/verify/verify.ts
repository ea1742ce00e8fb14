import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { OperatorKey } from '../crypto/index.js';
import { BackupError, type BackupErrorCode, provesBackupDefect } from '../errors.js';
import { parseGlobals } from '../globals/globals-sql.js';
import { readGlobalsSql } from '../globals/read-globals.js';
import { type Logger, silentLogger } from '../logger.js';
import { levelRank, type Manifest, type Verification, type VerifyLevel } from '../manifest.js';
import {
  classifyPostgresError,
  type PgConnection,
  pgRestoreInto,
  withDatabase,
} from '../postgres/connection.js';
import { createScratchDatabase } from '../postgres/scratch.js';
import { findPgTool } from '../postgres/tools.js';
import { type CatalogEntry, findBackup, recordVerification } from '../storage/catalog.js';
import { type ComparedProperty, checkRestoredDatabaseProperties } from './database-property-check.js';
import { type ArchiveConsumer, type DecodeOutcome, decodeBackup } from './decode.js';
import { replayGlobalsInScratchCluster } from './globals-replay.js';
import { sha256OfFile } from './sha256-file.js';
import {
  compareRowCounts,
  dataLinesAreUnambiguous,
  missingTables,
  processingDataLine,
  tablesNotProcessed,
} from './table-checks.js';

export interface VerifyOptions {
  backupDir: string;
  id: string;
  level: VerifyLevel;
  /** Keys that may decrypt the backup (current and older ones). */
  keyring?: readonly OperatorKey[];
  /**
   * The server on which the `restore` level creates its scratch database (created from
   * template0, dropped afterwards): normally the target's own server.
   */
  scratchServer?: PgConnection;
  /**
   * Restore objects with their owners and privileges (no --no-owner --no-privileges), for a drill
   * whose server has the source's roles (its globals replayed). Default false.
   */
  withOwners?: boolean;
  /**
   * Restore every object into the scratch server's default tablespace (`--no-tablespaces`): a
   * drill server has none of the source's tablespace directories. Default false.
   */
  noTablespaces?: boolean;
  /** Prefix of the scratch database's name (a random suffix follows). Default `pgbackup_verify`. */
  scratchPrefix?: 'pgbackup_verify' | 'pgbackup_drill';
  /** Append the result to the manifest (default true; never with `entry`). */
  record?: boolean;
  /**
   * The backup to check, when it is not in `backupDir`'s catalog (a download from a destination,
   * offsite/fetch-backup.ts): its file and manifest. The result is returned, not recorded.
   */
  entry?: CatalogEntry;
  signal?: AbortSignal;
  logger?: Logger;
  onPhase?: (phase: VerifyLevel) => void;
}

export interface VerifyResult {
  manifest: Manifest;
  verification: Verification;
  /** At the restore level of a database backup: the database properties compared. */
  propertiesCompared?: ComparedProperty[];
}

/**
 * Verifies a backup at a level and records the result in its manifest. Each level includes the
 * ones below it:
 * - `checksum`: size and SHA-256 of the file match the manifest, every encrypted chunk
 *   authenticates, the compressed stream decodes with valid frame checksums;
 * - `list`: pg_restore --list reads the archive and it holds every table the manifest records;
 * - `read`: a full pg_restore of the archive to /dev/null succeeds;
 * - `restore`: the archive restores into a scratch database with --exit-on-error, every table
 *   has the row count measured at dump time, and the database's owner, settings, comment and ACL
 *   are what the archive says (database-property-check.ts); the scratch database is dropped
 *   afterwards. A globals backup is replayed into a throwaway cluster (globals-replay.ts).
 * What a level could not check (a role the scratch server lacks) is recorded as `notes`.
 * A failed verification throws (a BackupError with the cause's code) after being recorded.
 * A check that could not be made (a missing key, the scratch server down, a full disk) is not a
 * failed verification: it throws VERIFY_INCONCLUSIVE and leaves the manifest as it was, so that
 * retention never deletes a good backup because its re-check could not run.
 */
export async function verifyBackup(options: VerifyOptions): Promise<VerifyResult> {
  const entry = options.entry ?? (await findBackup(options.backupDir, options.id));
  const logger = (options.logger ?? silentLogger).child({ backupId: options.id, level: options.level });
  const started = Date.now();
  let failure: unknown;
  let notes: string[] = [];
  const compared: ComparedProperty[] = [];
  try {
    notes = await runChecks(entry, options, logger, compared);
  } catch (error) {
    failure = error;
  }
  if (options.signal?.aborted) throw failure ?? options.signal.reason;
  if (failure !== undefined && !provesBackupDefect(failure)) throw inconclusive(options, failure);
  const verification: Verification = {
    level: options.level,
    ok: failure === undefined,
    at: new Date().toISOString(),
    durationMs: Date.now() - started,
    ...(failure === undefined
      ? {}
      : {
          errorCode: failure instanceof BackupError ? failure.code : 'INTERNAL',
          message: (failure as Error).message?.slice(0, 2000),
        }),
    ...(notes.length > 0 ? { notes } : {}),
  };
  const manifest =
    options.record === false || options.entry !== undefined
      ? entry.manifest
      : await recordVerification(options.backupDir, options.id, verification);
  if (failure !== undefined) throw failure;
  logger.info({ durationMs: verification.durationMs }, 'backup verified');
  return {
    manifest,
    verification,
    ...(entry.manifest.format === 'custom' && levelRank(options.level) >= levelRank('restore')
      ? { propertiesCompared: compared }
      : {}),
  };
}

/** Runs the level's checks; returns what was not checked and why (Verification.notes). */
async function runChecks(
  entry: CatalogEntry,
  options: VerifyOptions,
  logger: Logger,
  compared: ComparedProperty[],
): Promise<string[]> {
  const { manifest } = entry;
  const keyring = options.keyring ?? [];
  const level = levelRank(options.level);

  options.onPhase?.('checksum');
  await checkBackupFile(entry);

  if (manifest.format === 'globals') {
    options.onPhase?.(level >= levelRank('list') ? 'read' : 'checksum');
    if (level < levelRank('list')) {
      await judgeIntegrity(
        entry,
        await decodeBackup(entry, { keyring, ...(options.signal ? { signal: options.signal } : {}) }),
      );
      return [];
    }
    const sql = await readGlobalsSql(entry, keyring, options.signal);
    const statements = parseGlobals(sql);
    if (!statements.some((statement) => statement.kind === 'create-role')) {
      throw new BackupError(
        'ARCHIVE_CONTENT_MISMATCH',
        `globals backup ${manifest.id} creates no role at all`,
      );
    }
    if (level < levelRank('restore')) return [];
    options.onPhase?.('restore');
    return replayGlobalsInScratchCluster(
      sql,
      statements,
      manifest.id,
      Number.parseInt(manifest.serverVersion, 10),
      options.signal,
    );
  }

  const pgRestore = await findPgTool('pg_restore', Number.parseInt(manifest.pgDumpVersion, 10));
  const plainEnv = { ...process.env };

  // The first pass reads the whole file. From `read` up, pg_restore consumes the decoded archive
  // in the same pass, so the file is read once for checksum and content.
  let consumer: ArchiveConsumer | undefined;
  const processedTables = new Set<string>();
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  if (level >= levelRank('restore')) {
    if (!options.scratchServer) {
      throw new BackupError(
        'CONFIG_INVALID',
        'the restore level needs a server for its scratch database (scratchServer)',
      );
    }
    scratch = await createScratchDatabase(
      options.scratchServer,
      `${options.scratchPrefix ?? 'pgbackup_verify'}_${randomBytes(5).toString('hex')}`,
    );
    const into = pgRestoreInto(withDatabase(options.scratchServer, scratch.name));
    consumer = {
      name: 'pg_restore (into a scratch database)',
      program: pgRestore.path,
      args: [
        '--exit-on-error',
        ...(options.withOwners ? [] : ['--no-owner', '--no-privileges']),
        ...(options.noTablespaces ? ['--no-tablespaces'] : []),
        ...into.args,
      ],
      env: into.env,
      failureCode: 'RESTORE_FAILED',
      classify: (stderr) =>
        classifyPostgresError(stderr) ??
        classifyScratchServerError(stderr, options.withOwners ?? false) ??
        'RESTORE_FAILED',
      stdout: 'ignore',
    };
  } else if (level >= levelRank('read')) {
    // --verbose names each table whose data it reads: the `list` check without a second pass
    // (a second decompressor and pg_restore cost about as much as the read itself on a small backup).
    consumer = {
      name: 'pg_restore (full read)',
      program: pgRestore.path,
      args: ['--verbose', '--file', '/dev/null'],
      env: { ...plainEnv, LC_ALL: 'C', LANGUAGE: 'C', PG_COLOR: 'never' },
      failureCode: 'ARCHIVE_UNREADABLE',
      stdout: 'ignore',
      stderrLines: {
        pattern: processingDataLine,
        onLine: (line) => processedTables.add(processingDataLine.exec(line)![1]!),
      },
    };
  }

  let notes: string[] = [];
  try {
    if (consumer) options.onPhase?.(level >= levelRank('restore') ? 'restore' : 'read');
    const outcome = await decodeBackup(entry, {
      keyring,
      ...(consumer ? { consumer } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await judgeConsumedIntegrity(entry, outcome, {
      keyring,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (outcome.consumerError) throw outcome.consumerError;

    if (level === levelRank('read') && dataLinesAreUnambiguous(manifest)) {
      const missing = tablesNotProcessed(manifest, processedTables);
      if (missing.length > 0) {
        throw new BackupError(
          'ARCHIVE_CONTENT_MISMATCH',
          `the archive lacks the data of ${missing.length} table(s) recorded at dump time: ${missing.slice(0, 5).join(', ')}`,
        );
      }
    } else if (level >= levelRank('list')) {
      options.onPhase?.('list');
      const listing = await decodeBackup(entry, {
        keyring,
        consumer: {
          name: 'pg_restore --list',
          program: pgRestore.path,
          args: ['--list'],
          env: plainEnv,
          failureCode: 'ARCHIVE_UNREADABLE',
          mayStopEarly: true,
          stdout: 'pipe',
        },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (listing.decodeError) throw listing.decodeError;
      if (listing.consumerError) throw listing.consumerError;
      const missing = missingTables(manifest, listing.output);
      if (missing.length > 0) {
        throw new BackupError(
          'ARCHIVE_CONTENT_MISMATCH',
          `the archive lacks the data of ${missing.length} table(s) recorded at dump time: ${missing.slice(0, 5).join(', ')}`,
        );
      }
    }

    if (scratch) {
      const differences = await compareRowCounts(manifest, await scratch.countRows(manifest.tables));
      if (differences.length > 0) {
        throw new BackupError(
          'ROW_COUNT_MISMATCH',
          `after restore, ${differences.length} table(s) differ from the counts taken at dump time: ${differences.slice(0, 5).join('; ')}`,
        );
      }
      logger.debug({ scratch: scratch.name }, 'restored and compared row counts');
      const properties = await checkRestoredDatabaseProperties({
        entry,
        keyring,
        pgRestore: pgRestore.path,
        server: options.scratchServer!,
        database: scratch.name,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      notes = properties.notes;
      compared.push(...properties.compared);
      logger.debug({ compared: properties.compared }, 'compared the database properties');
    }
  } finally {
    await scratch?.drop();
  }
  return notes;
}

/** Throws CHECKSUM_MISMATCH unless `sha256` is the one the backup's manifest records. */
export function expectSha256(entry: CatalogEntry, sha256: string): void {
  const { manifest } = entry;
  if (sha256 !== manifest.sha256) {
    throw new BackupError(
      'CHECKSUM_MISMATCH',
      `the SHA-256 of backup ${manifest.id} is ${sha256}, its manifest says ${manifest.sha256}: the file changed after it was written`,
    );
  }
}

/**
 * judgeIntegrity for a pass with a consumer (pg_restore). pg_restore may fail on garbage a corrupt
 * compressed stream decoded to, and stop reading before the decompressor reached the frame
 * checksum that would have told: the stream is then tested to its end before the archive is
 * blamed. The consumer's own error is left to the caller.
 */
export async function judgeConsumedIntegrity(
  entry: CatalogEntry,
  outcome: DecodeOutcome,
  options: { keyring: readonly OperatorKey[]; signal?: AbortSignal },
): Promise<void> {
  await judgeIntegrity(entry, outcome);
  if (outcome.consumerError && !outcome.readToEnd) {
    const stream = await decodeBackup(entry, {
      keyring: options.keyring,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (stream.decodeError) throw stream.decodeError;
  }
}

/** Checksum first: a file that is not what was written explains every failure downstream. */
export async function judgeIntegrity(entry: CatalogEntry, outcome: DecodeOutcome): Promise<void> {
  const { manifest } = entry;
  // When a consumer stopped reading early, or decryption failed (a wrong key fails on the first
  // chunk), the pass did not hash the whole file: hash it now, or an intact file would be
  // reported as changed.
  const sha256 =
    outcome.readToEnd && outcome.bytes === manifest.sizeBytes
      ? outcome.sha256
      : await sha256OfFile(entry.filePath);
  expectSha256(entry, sha256);
  if (outcome.decodeError) throw outcome.decodeError;
  if (!outcome.readToEnd && !outcome.consumerError) {
    throw new BackupError(
      'ARCHIVE_UNREADABLE',
      `pg_restore stopped reading backup ${manifest.id} before its end`,
    );
  }
}

/**
 * What can be told of the backup file without reading it: there, not empty, and of the size its
 * manifest records (a truncated or appended-to file is named as such, not as a checksum mismatch).
 */
export async function checkBackupFile(entry: CatalogEntry): Promise<void> {
  const { manifest } = entry;
  const stat = await fs.stat(entry.filePath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new BackupError('BACKUP_FILE_UNREADABLE', `could not read ${entry.filePath}: ${error.message}`, {
      cause: error,
    });
  });
  if (!stat) {
    throw new BackupError(
      'BACKUP_FILE_MISSING',
      `the file of backup ${manifest.id} is missing: ${entry.filePath}`,
    );
  }
  if (stat.size === 0) {
    throw new BackupError(
      'BACKUP_FILE_EMPTY',
      `the file of backup ${manifest.id} is empty (0 bytes, expected ${manifest.sizeBytes})`,
    );
  }
  if (stat.size !== manifest.sizeBytes) {
    throw new BackupError(
      'SIZE_MISMATCH',
      `the file of backup ${manifest.id} has ${stat.size} bytes, its manifest says ${manifest.sizeBytes} (truncated or appended to)`,
    );
  }
}

/**
 * pg_restore errors that come from the scratch server rather than from the archive: its disk,
 * memory or connection slots, or an extension the backup needs but this server lacks.
 */
export function classifyScratchServerError(stderr: string, withOwners = false): BackupErrorCode | undefined {
  // Restoring with owners names the source's roles: one this server lacks is its state, not the backup's.
  if (withOwners && /role "(?:[^"]|"")*" does not exist/.test(stderr)) return 'SCRATCH_SERVER_FAILED';
  return /No space left on device|could not extend file|out of memory|too many connections|remaining connection slots|could not open extension control file|extension "[^"]*" is not available/i.test(
    stderr,
  )
    ? 'SCRATCH_SERVER_FAILED'
    : undefined;
}

function inconclusive(options: VerifyOptions, failure: unknown): BackupError {
  const code = failure instanceof BackupError ? failure.code : 'INTERNAL';
  const message = failure instanceof Error ? failure.message : String(failure);
  return new BackupError(
    'VERIFY_INCONCLUSIVE',
    `could not verify backup ${options.id} at level ${options.level}: ${code}: ${message} (a failure of this host or server, not of the backup: its verification state is unchanged)`,
    // Retryable even when its cause is not (a missing key or initdb): workers on several hosts
    // share the queue, and the next attempt may run on one that has what this one lacks.
    { cause: failure },
  );
}
