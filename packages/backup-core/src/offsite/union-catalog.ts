import type { DestinationConfig } from '../config/types.js';
import type { Copy, Manifest } from '../manifest.js';
import { listBackups } from '../storage/catalog.js';
import { RemoteStore } from './remote-store.js';
import { describeDestination } from './s3-errors.js';

/** A backup and where it lives. */
export interface PlacedBackup {
  /** The local manifest when there is one (it holds the local file's verifications), else a destination's. */
  manifest: Manifest;
  /** The local backup directory holds it. */
  local: boolean;
  /** Destinations whose bucket holds its manifest object. */
  destinations: string[];
}

export interface UnionListing {
  /** Newest first. */
  backups: PlacedBackup[];
  /** Unreadable manifests and unreachable destinations: listed, never silently skipped. */
  problems: Array<{ where: string; message: string }>;
}

/**
 * The catalog as the union of the local manifests and each destination's manifest objects: what
 * a worker without a durable disk (local retention 0), or on another host, has. `copies` is the
 * union of the copies every source records. A destination that cannot be listed is a problem,
 * not a failure: the rest of the catalog is still worth showing.
 */
export async function listBackupsEverywhere(
  backupDir: string,
  destinations: readonly DestinationConfig[],
  options: { target?: string } = {},
): Promise<UnionListing> {
  const local = await listBackups(backupDir, options);
  const problems: UnionListing['problems'] = local.problems.map((p) => ({
    where: p.path,
    message: p.message,
  }));
  const byId = new Map<string, PlacedBackup>();
  for (const entry of local.entries)
    byId.set(entry.manifest.id, { manifest: entry.manifest, local: true, destinations: [] });
  for (const destination of destinations) {
    const store = new RemoteStore(destination);
    try {
      const listing = await store.list(options);
      for (const problem of listing.problems)
        problems.push({ where: `${destination.name}: ${problem.key}`, message: problem.message });
      for (const { manifest } of listing.entries) {
        const placed = byId.get(manifest.id);
        if (!placed) {
          byId.set(manifest.id, { manifest, local: false, destinations: [destination.name] });
          continue;
        }
        placed.destinations.push(destination.name);
        placed.manifest = {
          ...placed.manifest,
          copies: mergeCopies(placed.manifest.copies, manifest.copies),
        };
      }
    } catch (error) {
      problems.push({ where: describeDestination(destination), message: (error as Error).message });
    } finally {
      store.close();
    }
  }
  const backups = [...byId.values()].sort((a, b) =>
    a.manifest.createdAt === b.manifest.createdAt
      ? b.manifest.id.localeCompare(a.manifest.id)
      : b.manifest.createdAt.localeCompare(a.manifest.createdAt),
  );
  return { backups, problems };
}

function mergeCopies(a: Copy[] | undefined, b: Copy[] | undefined): Copy[] {
  const merged = new Map<string, Copy>();
  for (const copy of [...(a ?? []), ...(b ?? [])])
    merged.set(copy.destination, merged.get(copy.destination) ?? copy);
  return [...merged.values()];
}
