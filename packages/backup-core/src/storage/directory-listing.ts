import fs from 'node:fs/promises';
import path from 'node:path';
import type { CatalogEntry, CatalogListing } from './catalog.js';
import { MANIFEST_SUFFIX } from './layout.js';

/**
 * A directory's listing is reused only when its modification time is older than this: a file
 * changed within the same tick of the kernel's coarse clock as an earlier change leaves the time
 * as it was (the "racy" case git knows), so a recently changed directory is always read again.
 */
const SETTLED_NS = 2_000_000_000n;

interface CachedDirectory {
  mtimeNs: bigint;
  names: string;
  listing: CatalogListing;
}

/**
 * Each target directory's manifests as last read, by directory. A manifest is only ever written by
 * rename (writeFileAtomic), which changes the directory's modification time, and a backup is added
 * or deleted by creating or removing names in it; so while the time and the names are those the
 * listing was made with, it is still exact. With 500 targets x 30 backups, reading and checking
 * 15,000 manifests takes over a second; a warm listing costs a readdir and a stat per target
 * (docs/benchmarks-catalog.md). The manifests are frozen: the listing is shared by
 * every caller, and none may change it.
 */
const cache = new Map<string, CachedDirectory>();

export async function directoryEntries(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function modifiedNs(dir: string): Promise<bigint | undefined> {
  try {
    return (await fs.stat(dir, { bigint: true })).mtimeNs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** One target directory's manifests (unordered), from the cache when the directory is unchanged. */
export async function listTargetDirectory(
  dir: string,
  readEntry: (manifestPath: string) => CatalogEntry,
): Promise<CatalogListing> {
  // The time first, then the names: a change between the two makes the time newer than the one
  // the listing is kept under, so the next call reads again.
  const mtimeNs = await modifiedNs(dir);
  const manifestNames = (await directoryEntries(dir))
    .filter((name) => name.endsWith(MANIFEST_SUFFIX) && !name.startsWith('.'))
    .sort();
  const names = manifestNames.join('\n');
  const cached = cache.get(dir);
  if (cached && mtimeNs !== undefined && cached.mtimeNs === mtimeNs && cached.names === names) {
    return cached.listing;
  }
  const listing: CatalogListing = { entries: [], problems: [] };
  // Read blocking, the directory's manifests in one go: tens of small files take about a
  // millisecond, and the listing awaits the next directory's stat and names before reading it, so
  // the event loop is never held longer than one directory. Through the thread pool (16 reads at
  // a time) a cold listing of 15,000 manifests cost about 4 times the CPU, most of the cold
  // `backupctl status` at 500 targets (docs/benchmarks-catalog.md).
  for (const name of manifestNames) {
    const manifestPath = path.join(dir, name);
    try {
      listing.entries.push(deepFreeze(readEntry(manifestPath)));
    } catch (error) {
      listing.problems.push({ path: manifestPath, message: (error as Error).message });
    }
  }
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  if (mtimeNs !== undefined && nowNs - mtimeNs > SETTLED_NS) cache.set(dir, { mtimeNs, names, listing });
  else cache.delete(dir);
  return listing;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
