import type { DestinationConfig } from '../config/types.js';
import { BackupError, type BackupErrorCode } from '../errors.js';
import type { Copy, Manifest } from '../manifest.js';
import { listBackups } from '../storage/catalog.js';
import { RemoteStore } from './remote-store.js';
import { classifyS3Error, describeDestination } from './s3-errors.js';

/** A backup and where it lives. */
export interface PlacedBackup {
  /** The local manifest when there is one (it holds the local file's verifications), else a destination's. */
  manifest: Manifest;
  /** The local backup directory holds it. */
  local: boolean;
  /** Destinations whose bucket holds its manifest object. */
  destinations: string[];
}

/** How one destination's listing went: its backups counted, or the error that kept them out. */
export type DestinationListing =
  | { destination: string; ok: true; backups: number }
  | { destination: string; ok: false; code: BackupErrorCode; message: string };

export interface UnionListing {
  /** Newest first. */
  backups: PlacedBackup[];
  /** Unreadable manifests (files and objects): listed, never silently skipped. */
  problems: Array<{ where: string; message: string }>;
  /** One per destination, in configuration order: listed, or why not (also never skipped). */
  destinations: DestinationListing[];
}

/** How long one destination may take to list, unless the caller says otherwise. */
export const DEFAULT_LISTING_TIMEOUT_MS = 10_000;

/**
 * The catalog as the union of the local manifests and each destination's manifest objects: what
 * a worker without a durable disk (local retention 0), or on another host, has. `copies` is the
 * union of the copies every source records. A destination that cannot be listed (within
 * `timeoutMs`, every request of its listing included) is a problem, not a failure: the rest of
 * the catalog is still worth showing, and `destinations` says which part is missing. The
 * destinations are listed side by side, so the whole call takes about `timeoutMs` at most.
 */
export async function listBackupsEverywhere(
  backupDir: string,
  destinations: readonly DestinationConfig[],
  options: { target?: string; timeoutMs?: number } = {},
): Promise<UnionListing> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LISTING_TIMEOUT_MS;
  const filter = options.target === undefined ? {} : { target: options.target };
  const [local, ...remote] = await Promise.all([
    listBackups(backupDir, filter),
    ...destinations.map((destination) => listDestination(destination, filter, timeoutMs)),
  ]);
  const problems: UnionListing['problems'] = local!.problems.map((p) => ({
    where: p.path,
    message: p.message,
  }));
  const byId = new Map<string, PlacedBackup>();
  for (const entry of local!.entries)
    byId.set(entry.manifest.id, { manifest: entry.manifest, local: true, destinations: [] });
  const states: DestinationListing[] = [];
  destinations.forEach((destination, index) => {
    const result = remote[index] as Awaited<ReturnType<typeof listDestination>>;
    if (result instanceof BackupError) {
      states.push({ destination: destination.name, ok: false, code: result.code, message: result.message });
      return;
    }
    states.push({ destination: destination.name, ok: true, backups: result.entries.length });
    for (const problem of result.problems)
      problems.push({ where: `${destination.name}: ${problem.key}`, message: problem.message });
    for (const { manifest } of result.entries) {
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
  });
  const backups = [...byId.values()].sort((a, b) =>
    a.manifest.createdAt === b.manifest.createdAt
      ? b.manifest.id.localeCompare(a.manifest.id)
      : b.manifest.createdAt.localeCompare(a.manifest.createdAt),
  );
  return { backups, problems, destinations: states };
}

/** One destination's listing, or the coded error that stopped it (never thrown: see above). */
async function listDestination(
  destination: DestinationConfig,
  filter: { target?: string },
  timeoutMs: number,
) {
  const store = new RemoteStore(destination);
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    return await store.list({ ...filter, signal });
  } catch (error) {
    if (signal.aborted)
      return new BackupError(
        'S3_UNREACHABLE',
        `${describeDestination(destination)}: cannot list backups: no complete answer within ${timeoutMs} ms`,
      );
    return classifyS3Error(error, destination, 'list backups');
  } finally {
    store.close();
  }
}

function mergeCopies(a: Copy[] | undefined, b: Copy[] | undefined): Copy[] {
  const merged = new Map<string, Copy>();
  for (const copy of [...(a ?? []), ...(b ?? [])])
    merged.set(copy.destination, merged.get(copy.destination) ?? copy);
  return [...merged.values()];
}
