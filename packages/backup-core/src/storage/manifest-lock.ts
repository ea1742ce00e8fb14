import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackupError } from '../errors.js';
import { parseBackupId } from '../ids.js';
import { writeError } from './durable-fs.js';
import { targetDirectory } from './layout.js';

/** Suffix of a manifest's lock file, `.<id>.manifest-lock` beside it (a dotfile: never listed). */
export const MANIFEST_LOCK_SUFFIX = '.manifest-lock';
/** A lock held longer than this was left by a process that died: an update takes milliseconds. */
const STALE_AFTER_MS = 60_000;
const WAIT_MS = 30_000;
const POLL_MS = 15;

/** Updates of one backup's manifest in this process, in order (no polling against ourselves). */
const inProcess = new Map<string, Promise<unknown>>();

export function manifestLockPath(backupDir: string, id: string): string {
  return path.join(targetDirectory(backupDir, parseBackupId(id).target), `.${id}${MANIFEST_LOCK_SUFFIX}`);
}

/**
 * Runs `update` (a read, change and write of one backup's manifest) while no other update of that
 * manifest runs, in this process or another sharing the backup directory. Without it, copy jobs
 * to two destinations finishing together each re-read the manifest and wrote it back with only
 * their own copy, and a drill that proved a backup bad could be written over by a copy record.
 * Across processes: a lock file created with O_EXCL, removed afterwards; one older than a minute
 * is taken for a dead process's and removed.
 */
export async function withManifestLock<T>(
  backupDir: string,
  id: string,
  update: () => Promise<T>,
): Promise<T> {
  const key = path.resolve(backupDir, id);
  const before = inProcess.get(key) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(() => acrossProcesses(backupDir, id, update));
  const settled = run.catch(() => undefined);
  inProcess.set(key, settled);
  try {
    return await run;
  } finally {
    if (inProcess.get(key) === settled) inProcess.delete(key);
  }
}

async function acrossProcesses<T>(backupDir: string, id: string, update: () => Promise<T>): Promise<T> {
  const lock = manifestLockPath(backupDir, id);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      // Empty: its existence is the lock and its mtime its age. Writing into it could fail on a
      // full disk after the file exists, and leave a lock nobody holds.
      await (await fs.open(lock, 'wx', 0o600)).close().catch(() => undefined);
      break;
    } catch (error) {
      // A full disk or a read-only directory: DISK_FULL or WRITE_FAILED, as for the manifest.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(error, lock);
    }
    const stat = await fs.stat(lock).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs > STALE_AFTER_MS) {
      await fs.rm(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new BackupError(
        'MANIFEST_LOCKED',
        `the manifest of ${id} stayed locked for ${WAIT_MS / 1000} s by another update (${lock}); try again`,
      );
    }
    await sleep(POLL_MS);
  }
  try {
    return await update();
  } finally {
    await fs.rm(lock, { force: true });
  }
}
