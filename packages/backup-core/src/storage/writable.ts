import fs from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDirectory, writeError } from './durable-fs.js';

/**
 * Proves that this process can create files in `dir` (creating the directory, 0700, when missing)
 * by creating and removing a small file: permission bits alone do not tell (root ignores them, a
 * read-only mount or a file in the directory's place does not show in them). Throws WRITE_FAILED
 * or DISK_FULL naming the directory and `what` it is (the setting that names it).
 */
export async function assertWritableDirectory(dir: string, what: string): Promise<void> {
  const resolved = path.resolve(dir);
  const probe = path.join(resolved, `.pgbackup-write-check-${process.pid}-${Date.now()}`);
  try {
    await ensurePrivateDirectory(resolved);
    const handle = await fs.open(probe, 'wx', 0o600);
    await handle.close();
    await fs.rm(probe, { force: true });
  } catch (error) {
    await fs.rm(probe, { force: true }).catch(() => undefined);
    throw writeError(error, `${what} ${resolved}`);
  }
}
