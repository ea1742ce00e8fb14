import fs from 'node:fs/promises';
import type { CatalogEntry } from '../storage/catalog.js';
import { tmpDownloadPath } from '../storage/tmp-area.js';
import type { RemoteEntry, RemoteStore } from './remote-store.js';

/** A backup downloaded from a destination into the backup directory's tmp area, checked. */
export interface FetchedBackup {
  remote: RemoteEntry;
  /**
   * The downloaded file with the manifest object's contents, for the engine's `source`/`entry`
   * options. `manifestPath` is the manifest object's key: there is no manifest file on disk, so
   * nothing here joins the local catalog.
   */
  entry: CatalogEntry;
  /** Removes the downloaded file. Call it in a `finally`. */
  discard(): Promise<void>;
}

/**
 * Fetches backup `id` from a destination for a restore or a verification from the bucket alone:
 * its manifest object first (BACKUP_NOT_FOUND naming the destination when there is none), then
 * the data object into `<backupDir>/.tmp/` under a name that is not a backup's, checked against
 * the manifest object's size and SHA-256 (SIZE_MISMATCH, CHECKSUM_MISMATCH) before it is used.
 */
export async function fetchBackup(
  store: RemoteStore,
  id: string,
  backupDir: string,
  purpose: 'restore' | 'verify',
  signal?: AbortSignal,
): Promise<FetchedBackup> {
  const remote = await store.find(id);
  const file = await tmpDownloadPath(backupDir, purpose);
  await store.downloadTo(remote, file, signal);
  return {
    remote,
    entry: { manifest: remote.manifest, manifestPath: remote.manifestKey, filePath: file },
    discard: () => fs.rm(file, { force: true }),
  };
}
