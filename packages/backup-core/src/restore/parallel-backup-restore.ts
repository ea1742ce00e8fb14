import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { OperatorKey } from '../crypto/index.js';
import type { BackupErrorCode } from '../errors.js';
import type { TableStat } from '../manifest.js';
import type { ScratchDatabase } from '../postgres/scratch.js';
import type { CatalogEntry } from '../storage/catalog.js';
import { readArchivePrefix } from './archive-pass.js';
import { restoreInParallelCounting } from './parallel-pg-restore.js';
import { decodeToFile, seekableArchive, seekableAsStored } from './seekable-archive.js';
import { planStreamedLead } from './streamed-lead.js';

export interface BackupParallelRestoreOptions {
  entry: CatalogEntry;
  keyring: readonly OperatorKey[];
  /** Name of pg_restore in errors. */
  name: string;
  pgRestore: string;
  /** pg_restore's arguments, connection included, without --jobs, sections, lists or the archive. */
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  classify: (stderr: string) => BackupErrorCode | undefined;
  jobs: number;
  /** The database restored into: its tables are counted there. */
  database: ScratchDatabase;
  /** Where the decoded archive goes. Default the system's temporary directory (TMPDIR). */
  tempDir?: string;
  signal?: AbortSignal;
  /** Runs the pass that reads the whole backup and checks its checksum (restoreBackup records it). */
  checkedPass?: (pass: () => Promise<void>) => Promise<void>;
  /**
   * The checksum was checked in a pass of its own just before (a database about to be replaced):
   * a backup pg_restore reads as it is stored is then not hashed again.
   */
  checksumChecked?: boolean;
  /**
   * Restore while the archive is decoded (below), or decode it in full first and then run one
   * `pg_restore --jobs`. Default overlapDecodePays().
   */
  overlapDecode?: boolean;
}

/**
 * Whether restoring while the archive is decoded pays on this host: only with cores to spare.
 * On 2 cores the restore is bound by CPU (client and server together kept 1.75 of the 2 cores
 * busy with the archive decoded first, 797 MB, docs/benchmarks-restore.md), so the overlap only
 * added its own passes: 11.6 s against 11.4 s, 0.7 s more CPU. With more cores the decode (one
 * core, about 1 s per 800 MB) is time the other cores would otherwise spend idle.
 */
export function overlapDecodePays(cores = os.availableParallelism()): boolean {
  return cores > 2;
}

export interface BackupParallelRestoreResult {
  /** Every table's row count in `database`, keyed by tableKey. */
  counts: Map<string, number | undefined>;
  /** Tables loaded from a streamed decoding while the archive was decoded to the file. */
  streamed: TableStat[];
}

/**
 * `pg_restore --jobs` of a backup, each table counted as soon as its data is in
 * (restoreInParallelCounting), the backup's checksum checked in the pass that reads it all.
 *
 * A compressed or encrypted backup must first be decoded to a seekable temporary file, one core's
 * work (1 to 2 s at 800 MB) that the parallel restore cannot start before. That time is not left
 * idle: while the file is written, the schema (pre-data) is created and the archive's first
 * tables are loaded from a second decoding of the stream, which stops once their data is read
 * (planStreamedLead). Then the other tables' data is restored with --jobs from the file, beside
 * the streamed load still going on, and the indexes, constraints and triggers (post-data) with
 * --jobs once all the data is in: nothing of post-data ever sees a table before its rows.
 *
 * As in a streamed restore, data goes in before the checksum is judged; a backup whose bytes
 * changed still throws CHECKSUM_MISMATCH (the decoding pass is never cut short by the others'
 * failures, and its error comes first) before anything is reported, and the caller drops the
 * database. The temporary file is removed whatever happens.
 */
export async function restoreBackupInParallel(
  options: BackupParallelRestoreOptions,
): Promise<BackupParallelRestoreResult> {
  const { entry } = options;
  const checkedPass = options.checkedPass ?? ((pass) => pass());
  const signal = options.signal ? { signal: options.signal } : {};
  const restoring = {
    name: options.name,
    program: options.pgRestore,
    env: options.env,
    jobs: options.jobs,
    classify: options.classify,
    database: options.database,
  };
  if (seekableAsStored(entry.manifest) || !(options.overlapDecode ?? overlapDecodePays())) {
    let archive: Awaited<ReturnType<typeof seekableArchive>> | undefined;
    try {
      await checkedPass(async () => {
        archive = await seekableArchive(entry, {
          keyring: options.keyring,
          ...(options.tempDir ? { tempDir: options.tempDir } : {}),
          ...(options.checksumChecked ? { checksumChecked: true } : {}),
          ...signal,
        });
      });
      const counts = await restoreInParallelCounting({
        ...restoring,
        args: options.args,
        archive: archive!.path,
        tables: entry.manifest.tables,
        ...signal,
      });
      return { counts, streamed: [] };
    } finally {
      // Also when recording the checksum failed after the file was decoded: never a plaintext copy left.
      await archive?.remove();
    }
  }

  const dir = await fs.mkdtemp(path.join(options.tempDir ?? os.tmpdir(), 'pgbackup-restore-'));
  try {
    const file = path.join(dir, `${entry.manifest.id}.dump`);
    const stopOthers = new AbortController();
    const othersSignal = options.signal
      ? AbortSignal.any([options.signal, stopOthers.signal])
      : stopOthers.signal;
    let firstFailure: unknown;
    const watched = <T>(promise: Promise<T>): Promise<T> => {
      promise.catch((error: unknown) => {
        firstFailure ??= error;
        stopOthers.abort();
      });
      return promise;
    };
    const prefix = { keyring: options.keyring, signal: othersSignal };
    /** A pg_restore that restores from the stream's first blocks into the database. */
    const streamed = (pass: string, args: string[]) =>
      readArchivePrefix(
        entry,
        {
          name: `${options.name} (${pass})`,
          pgRestore: options.pgRestore,
          args,
          env: options.env,
          failureCode: 'RESTORE_FAILED',
          classify: options.classify,
          stdout: 'ignore',
        },
        prefix,
      );

    // Only the caller's signal stops the decoding: its verdict on the checksum comes first.
    const decoded = watched(
      checkedPass(() => decodeToFile(entry, file, { keyring: options.keyring, ...signal })),
    );
    const plan = watched(
      readArchivePrefix(
        entry,
        {
          name: `${options.name} (list)`,
          pgRestore: options.pgRestore,
          args: ['--list'],
          env: process.env,
          failureCode: 'ARCHIVE_UNREADABLE',
          stdout: 'pipe',
        },
        prefix,
      ).then((list) => planStreamedLead(list, entry.manifest.tables, options.jobs)),
    );
    const preData = watched(
      streamed('pre-data', [...options.args, '--section=pre-data']).then(() => undefined),
    );
    const lead = watched(
      (async () => {
        const [{ lead, leadList }] = await Promise.all([plan, preData]);
        if (lead.length === 0) return new Map<string, number | undefined>();
        const listFile = path.join(dir, 'streamed.list');
        await fs.writeFile(listFile, leadList, { mode: 0o600 });
        othersSignal.throwIfAborted();
        await streamed('streamed data', [...options.args, '--section=data', '--use-list', listFile]);
        return options.database.countRows(lead);
      })(),
    );
    const rest = watched(
      (async () => {
        const [{ rest, restList }] = await Promise.all([plan, preData, decoded]);
        const listFile = path.join(dir, 'rest.list');
        await fs.writeFile(listFile, restList, { mode: 0o600 });
        // Another part failed (the streamed load, say) while the decode went on: start nothing more.
        othersSignal.throwIfAborted();
        return restoreInParallelCounting({
          ...restoring,
          args: [...options.args, '--section=data', '--use-list', listFile],
          archive: file,
          tables: rest,
          signal: othersSignal,
        });
      })(),
    );
    // Every part settled, so no child process outlives this function, whichever failed first.
    const [decodedOutcome] = await Promise.allSettled([decoded, plan, preData, lead, rest]);
    // A changed file explains whatever else failed: its error first.
    if (decodedOutcome.status === 'rejected') throw decodedOutcome.reason;
    options.signal?.throwIfAborted();
    if (firstFailure !== undefined) throw firstFailure;

    await restoreInParallelCounting({
      ...restoring,
      args: [...options.args, '--section=post-data'],
      archive: file,
      tables: [],
      ...signal,
    });
    const counts = new Map([...(await lead), ...(await rest)]);
    return { counts, streamed: (await plan).lead };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
