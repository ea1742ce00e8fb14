import { readFile, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { BackupError } from '../errors.js';
import { parseBackupId, targetNamePattern } from '../ids.js';
import { type Copy, type Drill, type Manifest, manifestSchema, type Verification } from '../manifest.js';
import { directoryEntries, listTargetDirectory } from './directory-listing.js';
import { fsyncDirectory, writeFileAtomic } from './durable-fs.js';
import { MANIFEST_SUFFIX, manifestPathFor, targetDirectory } from './layout.js';
import { withManifestLock } from './manifest-lock.js';

/** A backup as the files on disk describe it. */
export interface CatalogEntry {
  manifest: Manifest;
  manifestPath: string;
  /** Absolute path of the backup file the manifest describes. */
  filePath: string;
}

export interface CatalogListing {
  /** Newest first. */
  entries: CatalogEntry[];
  /** Manifests that could not be read: listed, never silently skipped. */
  problems: Array<{ path: string; message: string }>;
}

/**
 * fs.readFile with a callback, not fs/promises' (findBackup, findLatestVerified; the listing reads
 * blocking, readManifestSync): reading 15,000 small manifests through fs/promises took about
 * twice the CPU time (a FileHandle and more round trips to the thread pool; docs/benchmarks-catalog.md).
 */
const readText = promisify(readFile);

/** Target directories listed at once (each read blocking in one go: directory-listing.ts). */
const DIRECTORIES_LISTED_AT_ONCE = 16;

/** Manifests read at once by findLatestVerified: one by one, 10,000 take twice as long (docs/benchmarks.md). */
const MANIFESTS_READ_AT_ONCE = 16;

export async function readManifest(manifestPath: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readText(manifestPath, 'utf8');
  } catch (error) {
    throw manifestReadFailure(manifestPath, error);
  }
  return parseManifest(text, manifestPath);
}

/** readManifest, blocking: for the listing, which reads a directory's manifests in one go. */
export function readManifestSync(manifestPath: string): Manifest {
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (error) {
    throw manifestReadFailure(manifestPath, error);
  }
  return parseManifest(text, manifestPath);
}

/** A manifest that is gone is a backup that is not there; any other read error is the host's. */
function manifestReadFailure(manifestPath: string, error: unknown): unknown {
  return (error as NodeJS.ErrnoException).code === 'ENOENT'
    ? new BackupError('BACKUP_NOT_FOUND', `no manifest at ${manifestPath}`)
    : error;
}

/**
 * Checks a manifest's text, read from a file or an object (`where` is its path or key, whose last
 * segment must be `<id>.manifest.json`).
 */
export function parseManifest(text: string, where: string): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BackupError('MANIFEST_INVALID', `${where} is not valid JSON: ${(error as Error).message}`);
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new BackupError(
      'MANIFEST_INVALID',
      `${where} is not a backup manifest: ${first?.path.join('.') || '(root)'}: ${first?.message}`,
    );
  }
  const manifest = result.data;
  // The manifest must describe a file in its own directory, under its own id: a crafted manifest
  // must not point verify, restore or prune at another file.
  if (manifest.file !== path.basename(manifest.file) || !manifest.file.startsWith(`${manifest.id}.dump`)) {
    throw new BackupError(
      'MANIFEST_INVALID',
      `${where} names an unexpected file ${JSON.stringify(manifest.file)}`,
    );
  }
  if (where.split('/').at(-1) !== `${manifest.id}${MANIFEST_SUFFIX}`) {
    throw new BackupError(
      'MANIFEST_INVALID',
      `${where} holds the manifest of another backup (${manifest.id})`,
    );
  }
  return manifest;
}

function entryFor(manifestPath: string, manifest: Manifest): CatalogEntry {
  return { manifest, manifestPath, filePath: path.join(path.dirname(manifestPath), manifest.file) };
}

export async function writeManifest(backupDir: string, manifest: Manifest): Promise<CatalogEntry> {
  const manifestPath = manifestPathFor(backupDir, manifest.id);
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return entryFor(manifestPath, manifest);
}

/** Finds a backup by id (validated first: an id is never a path). */
export async function findBackup(backupDir: string, id: string): Promise<CatalogEntry> {
  const { target } = parseBackupId(id);
  const manifestPath = manifestPathFor(backupDir, id);
  try {
    return entryFor(manifestPath, await readManifest(manifestPath));
  } catch (error) {
    if (error instanceof BackupError && error.code === 'BACKUP_NOT_FOUND') {
      throw new BackupError(
        'BACKUP_NOT_FOUND',
        `no backup ${id} in ${targetDirectory(backupDir, target)} (\`backupctl backups --target ${target}\` lists them)`,
      );
    }
    throw error;
  }
}

/** The catalog: every manifest under the backup directory (or one target's), newest first. */
export async function listBackups(
  backupDir: string,
  options: { target?: string } = {},
): Promise<CatalogListing> {
  const targets = options.target
    ? [options.target]
    : (await directoryEntries(backupDir)).filter((name) => targetNamePattern.test(name));
  const entries: CatalogEntry[] = [];
  const problems: CatalogListing['problems'] = [];
  // Several directories at once: each costs a stat and a readdir through the thread pool, which
  // one after the other left the process waiting most of a warm listing (and of a cold one's
  // time beside the reads). Their order does not matter: the entries are sorted below.
  let next = 0;
  const lister = async () => {
    while (next < targets.length) {
      const target = targets[next++]!;
      const listed = await listTargetDirectory(targetDirectory(backupDir, target), (manifestPath) =>
        entryFor(manifestPath, readManifestSync(manifestPath)),
      );
      entries.push(...listed.entries);
      problems.push(...listed.problems);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DIRECTORIES_LISTED_AT_ONCE, targets.length) }, lister));
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  entries.sort((a, b) =>
    a.manifest.createdAt === b.manifest.createdAt
      ? b.manifest.id.localeCompare(a.manifest.id)
      : b.manifest.createdAt.localeCompare(a.manifest.createdAt),
  );
  return { entries, problems };
}

/**
 * The target's newest verified backup, as `listBackups(...).entries.find(isVerified)` would find
 * it, without reading every manifest: they are read newest id first, 16 at a time, stopping after
 * the first batch that holds a verified one (usually the first: the newest backups are the
 * verified ones). A dump does this for its size check, so its cost no longer grows with the number
 * of backups kept. Unreadable manifests are skipped, as `find` over a listing skips them.
 */
export async function findLatestVerified(
  backupDir: string,
  target: string,
  isVerified: (manifest: Manifest) => boolean,
): Promise<CatalogEntry | undefined> {
  const dir = targetDirectory(backupDir, target);
  const manifestPaths = (await directoryEntries(dir))
    .filter((name) => name.endsWith(MANIFEST_SUFFIX) && !name.startsWith('.'))
    .sort()
    .reverse()
    .map((name) => path.join(dir, name));
  for (let start = 0; start < manifestPaths.length; start += MANIFESTS_READ_AT_ONCE) {
    const batch = manifestPaths.slice(start, start + MANIFESTS_READ_AT_ONCE);
    const results = await Promise.allSettled(batch.map((manifestPath) => readManifest(manifestPath)));
    const verified = results.flatMap((result, index) =>
      result.status === 'fulfilled' && isVerified(result.value)
        ? [entryFor(batch[index]!, result.value)]
        : [],
    );
    if (verified.length > 0) {
      // Newest by creation time, as the listing orders them (a delayed job's id is older than its start).
      verified.sort((a, b) =>
        a.manifest.createdAt === b.manifest.createdAt
          ? b.manifest.id.localeCompare(a.manifest.id)
          : b.manifest.createdAt.localeCompare(a.manifest.createdAt),
      );
      return verified[0];
    }
  }
  return undefined;
}

/**
 * Changes a backup's manifest: re-read, `edit` applied, written atomically, while no other update
 * of it runs (withManifestLock), so two results recorded at once are both kept.
 */
export async function editManifest(
  backupDir: string,
  id: string,
  edit: (manifest: Manifest) => Manifest,
): Promise<Manifest> {
  // BACKUP_NOT_FOUND before any lock: the target's directory may not even exist here.
  await findBackup(backupDir, id);
  return withManifestLock(backupDir, id, async () => {
    const updated = edit((await findBackup(backupDir, id)).manifest);
    await writeManifest(backupDir, updated);
    return updated;
  });
}

/** Appends a verification result to the manifest (editManifest). */
export async function recordVerification(
  backupDir: string,
  id: string,
  verification: Verification,
): Promise<Manifest> {
  return editManifest(backupDir, id, (manifest) => ({
    ...manifest,
    verifications: [...manifest.verifications, verification],
  }));
}

/**
 * Appends a drill result to the manifest, and with it, when the drill proved the backup bad, the
 * failed verification that takes it out of retention's count: one atomic write for both.
 */
export async function recordDrill(
  backupDir: string,
  id: string,
  drill: Drill,
  verification?: Verification,
): Promise<Manifest> {
  return editManifest(backupDir, id, (manifest) => ({
    ...manifest,
    drills: [...(manifest.drills ?? []), drill],
    ...(verification ? { verifications: [...manifest.verifications, verification] } : {}),
  }));
}

/** Records a confirmed offsite copy in the manifest (replacing an older one for the destination). */
export async function recordCopy(backupDir: string, id: string, copy: Copy): Promise<Manifest> {
  return editManifest(backupDir, id, (manifest) => ({
    ...manifest,
    copies: [...(manifest.copies ?? []).filter((c) => c.destination !== copy.destination), copy],
  }));
}

/**
 * Stops counting a backup's copy in `destination` (editManifest): a verification of the copy
 * proved it bad, so retention must not rely on it and the next copy job uploads again.
 * Undefined when the manifest recorded no such copy.
 */
export async function dropCopy(
  backupDir: string,
  id: string,
  destination: string,
): Promise<Manifest | undefined> {
  let dropped = false;
  const updated = await editManifest(backupDir, id, (manifest) => {
    const kept = (manifest.copies ?? []).filter((c) => c.destination !== destination);
    dropped = kept.length !== (manifest.copies ?? []).length;
    return { ...manifest, copies: kept };
  });
  return dropped ? updated : undefined;
}

/**
 * Deletes a backup: the manifest first, so that no manifest ever points at a missing file; a
 * crash between the two leaves a data file without manifest, which is not a backup and which
 * the sweep removes.
 */
export async function deleteBackup(backupDir: string, target: string, id: string): Promise<void> {
  const entry = await findBackup(backupDir, id);
  if (entry.manifest.target !== target) {
    throw new BackupError(
      'MANIFEST_INVALID',
      `backup ${id} belongs to ${entry.manifest.target}, not ${target}`,
    );
  }
  await fs.rm(entry.manifestPath, { force: true });
  await fs.rm(entry.filePath, { force: true });
  await fsyncDirectory(path.dirname(entry.manifestPath));
}
