import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { OperatorKey } from '../crypto/index.js';
import { decompressorFor } from '../dump/compression.js';
import type { Manifest } from '../manifest.js';
import type { CatalogEntry } from '../storage/catalog.js';
import { type DecodeOutcome, decodeBackup } from '../verify/decode.js';
import { sha256OfFile } from '../verify/sha256-file.js';
import { checkBackupFile, expectSha256, judgeIntegrity } from '../verify/verify.js';

/**
 * Below this much table data a parallel restore does not pay for writing the decoded archive to
 * a temporary file first: a fleet's small databases restore in about a second either way, and
 * the extra pass is most of it.
 */
export const PARALLEL_RESTORE_MIN_BYTES = 64 * 1024 * 1024;

/** Whether `pg_restore --jobs` should be used for this backup (see PARALLEL_RESTORE_MIN_BYTES). */
export function parallelRestorePays(
  manifest: Manifest,
  jobs: number,
  minBytes = PARALLEL_RESTORE_MIN_BYTES,
): boolean {
  if (jobs <= 1 || manifest.tables.length < 2) return false;
  const tableBytes = manifest.tables.reduce((sum, table) => sum + table.bytes, 0);
  return tableBytes >= minBytes;
}

export interface SeekableArchive {
  /** A plain pg_dump custom-format archive pg_restore can seek in. */
  path: string;
  /** Removes the temporary copy (nothing for the backup file itself); safe to call twice. */
  remove(): Promise<void>;
}

/**
 * pg_restore --jobs needs a file it can seek in, not a pipe. An unencrypted, uncompressed backup
 * is one as it is; any other is decrypted and decompressed into a temporary file (0600, in the
 * system's temporary directory, TMPDIR), removed afterwards (also when this throws).
 *
 * The backup's checksum is checked in the same pass (the raw bytes are hashed as the decompressor
 * reads them), before anything is restored from the archive: a backup whose bytes changed throws
 * CHECKSUM_MISMATCH (SIZE_MISMATCH, BACKUP_FILE_MISSING... when that shows without reading it), a
 * stream that does not decode its own code. The file used as it is gets hashed on its own.
 * A separate checksum pass first cost a whole read and hash of the backup (issue 16).
 */
export async function seekableArchive(
  entry: CatalogEntry,
  options: {
    keyring: readonly OperatorKey[];
    signal?: AbortSignal;
    tempDir?: string;
    /** The checksum was checked in a pass of its own just before: the file used as it is is not hashed again. */
    checksumChecked?: boolean;
  },
): Promise<SeekableArchive> {
  const { manifest } = entry;
  if (seekableAsStored(manifest)) {
    await checkBackupFile(entry);
    if (!options.checksumChecked) expectSha256(entry, await sha256OfFile(entry.filePath));
    return { path: entry.filePath, remove: async () => undefined };
  }
  const dir = await fs.mkdtemp(path.join(options.tempDir ?? os.tmpdir(), 'pgbackup-restore-'));
  const remove = () => fs.rm(dir, { recursive: true, force: true });
  const file = path.join(dir, `${manifest.id}.dump`);
  try {
    await decodeToFile(entry, file, options);
  } catch (error) {
    await remove();
    throw error;
  }
  return { path: file, remove };
}

/** Whether pg_restore can seek in the backup file as it is stored (uncompressed, unencrypted). */
export function seekableAsStored(manifest: Manifest): boolean {
  return manifest.compression === 'none' && manifest.encryption === null;
}

/**
 * Decrypts and decompresses the backup into `file` (created 0600), checking its checksum in the
 * same pass: throws CHECKSUM_MISMATCH (or what shows without reading it) for a changed backup,
 * a decoding failure's own code, or the writer's (DISK_FULL) when the bytes were good.
 */
export async function decodeToFile(
  entry: CatalogEntry,
  file: string,
  options: { keyring: readonly OperatorKey[]; signal?: AbortSignal },
): Promise<void> {
  await checkBackupFile(entry);
  const output = await fs.open(file, 'w', 0o600);
  let outcome: DecodeOutcome;
  try {
    outcome = await decodeBackup(entry, {
      keyring: options.keyring,
      // The decompressor writes the file itself; an encrypted, uncompressed backup is decrypted by
      // Node and written by dd (no decompressor to write it).
      ...(decompressorFor(entry.manifest.compression)
        ? { output: output.fd }
        : {
            consumer: {
              name: 'dd (the decoded archive, to a temporary file)',
              program: 'dd',
              args: [`of=${file}`, 'bs=1M', 'status=none'],
              env: process.env,
              failureCode: 'WRITE_FAILED',
              classify: (stderr: string) => (/No space left/i.test(stderr) ? 'DISK_FULL' : undefined),
              stdout: 'ignore' as const,
            },
          }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } finally {
    await output.close();
  }
  // The checksum first: a changed file explains whatever else went wrong in decoding it.
  await judgeIntegrity(entry, outcome);
  if (outcome.consumerError) throw outcome.consumerError;
}
