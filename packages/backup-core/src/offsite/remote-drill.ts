import fs from 'node:fs/promises';
import type { DestinationConfig } from '../config/types.js';
import { type DrillSource, localDrillSource } from '../drill/drill.js';
import { BackupError, isBackupError } from '../errors.js';
import { isVerified } from '../manifest.js';
import { findBackup } from '../storage/catalog.js';
import { tmpDownloadPath } from '../storage/tmp-area.js';
import { type RemoteEntry, RemoteStore, remoteEntryOf } from './remote-store.js';
import { listBackupsEverywhere } from './union-catalog.js';

/** The backup a drill takes: in the local backup directory, or only in a destination's bucket. */
export type DrillChoice =
  | { local: true; id: string }
  | { local: false; id: string; destination: DestinationConfig; remote: RemoteEntry };

/**
 * Which backup a drill of `target` takes when its catalog includes the buckets (local retention
 * 0, catalogReadsBuckets): the newest verified one of the union of the local manifests and every
 * destination's (listBackupsEverywhere), the catalog that status, the dashboard and the metrics
 * show. The local file when the backup directory still holds it; else the first destination, in
 * configuration order, whose bucket has it: the one whose manifest object the union shows, so
 * the drill recorded there is the one everything else reads.
 *
 * A destination that cannot be listed fails the choice with its own code (S3_UNREACHABLE is
 * retried): chosen from half the catalog, a drill could take an older backup, or find none,
 * while the newest waits in the bucket that did not answer.
 */
export async function chooseDrillBackup(
  backupDir: string,
  destinations: readonly DestinationConfig[],
  target: string,
  options: { timeoutMs?: number } = {},
): Promise<DrillChoice> {
  const union = await listBackupsEverywhere(backupDir, destinations, {
    target,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const unlisted = union.destinations.find((listing) => !listing.ok);
  if (unlisted && !unlisted.ok) {
    throw new BackupError(
      unlisted.code,
      `cannot choose the backup to drill for target ${target}: destination ${unlisted.destination} could not be listed (${unlisted.message})`,
    );
  }
  const newest = union.backups.find((placed) => isVerified(placed.manifest));
  if (!newest) {
    throw new BackupError(
      'BACKUP_NOT_FOUND',
      `target ${target} has no verified backup to drill, locally or in a destination (${union.backups.length} backup(s) in all): ` +
        `expected one; \`backupctl backups --target ${target}\` lists them`,
    );
  }
  const { manifest } = newest;
  if (newest.local) return { local: true, id: manifest.id };
  const destination = destinations.find((d) => d.name === newest.destinations[0]);
  // The union names only destinations it was given.
  if (!destination)
    throw new BackupError(
      'DESTINATION_UNKNOWN',
      `destination ${newest.destinations[0]} is not among those listed`,
    );
  return { local: false, id: manifest.id, destination, remote: remoteEntryOf(destination, manifest) };
}

/**
 * A drill source (runDrill's `source`) for a backup kept in a destination: its data object is
 * downloaded into `<backupDir>/.tmp/` under a name that is not a backup's (as `restore --from`
 * and `verify --destination` do), checked against the manifest object's size and SHA-256, and
 * removed by `discard`, which runDrill calls whatever happened. The drill is appended to the
 * manifest object (re-read just before it is written, as remote verifications are), so the
 * destination's catalog, the dashboard and the metrics see it; a drill that proved the copy bad
 * also appends its failed `restore` verification there, and the copy stops counting as verified.
 */
export function remoteDrillSource(store: RemoteStore, remote: RemoteEntry, backupDir: string): DrillSource {
  let file: string | undefined;
  return {
    manifest: remote.manifest,
    destination: store.destination.name,
    async fetch(signal) {
      file = await tmpDownloadPath(backupDir, 'drill');
      await store.downloadTo(remote, file, signal);
      return { manifest: remote.manifest, manifestPath: remote.manifestKey, filePath: file };
    },
    async discard() {
      if (file !== undefined) await fs.rm(file, { force: true });
    },
    record(drill, verification) {
      return store.editManifest(remote.manifest.id, (manifest) => ({
        ...manifest,
        drills: [...(manifest.drills ?? []), drill],
        ...(verification ? { verifications: [...manifest.verifications, verification] } : {}),
      }));
    },
  };
}

/**
 * runDrill's `globalsSource` for a catalog that includes the buckets: the server's globals backup
 * (`<server>.globals`, copied and pruned like the databases' backups) chosen as chooseDrillBackup
 * chooses, the local file or a download from the first destination holding it; undefined when
 * none is verified. The connection to the destination is closed with `discard`.
 */
export function bucketGlobalsSource(
  backupDir: string,
  destinations: readonly DestinationConfig[],
): (globalsTarget: string) => Promise<DrillSource | undefined> {
  return async (globalsTarget) => {
    let choice: DrillChoice;
    try {
      choice = await chooseDrillBackup(backupDir, destinations, globalsTarget);
    } catch (error) {
      if (isBackupError(error, 'BACKUP_NOT_FOUND')) return undefined;
      throw error;
    }
    if (choice.local) return localDrillSource(backupDir, await findBackup(backupDir, choice.id));
    const store = new RemoteStore(choice.destination);
    const source = remoteDrillSource(store, choice.remote, backupDir);
    return {
      ...source,
      async discard() {
        try {
          await source.discard();
        } finally {
          store.close();
        }
      },
    };
  };
}
