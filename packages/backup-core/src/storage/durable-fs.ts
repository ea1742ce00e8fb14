import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BackupError } from '../errors.js';
import { partialPathFor } from './layout.js';

export const FILE_MODE = 0o600;
export const DIRECTORY_MODE = 0o700;

/** Creates the directory (0700) and its parents; tightens the mode of one that already exists. */
export async function ensurePrivateDirectory(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: DIRECTORY_MODE });
  await fs.chmod(dir, DIRECTORY_MODE);
}

/** Makes a rename or unlink in `dir` durable: the directory entry itself is flushed. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Maps the errors of a full or size-limited disk to DISK_FULL, the rest to WRITE_FAILED. */
export function writeError(error: unknown, what: string): BackupError {
  if (error instanceof BackupError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') {
    const why = code === 'EFBIG' ? 'the file size limit was reached' : 'no space left';
    return new BackupError('DISK_FULL', `${why} while writing ${what}: ${message}`, { cause: error });
  }
  return new BackupError('WRITE_FAILED', `could not write ${what}: ${message}${fixFor(code)}`, {
    cause: error,
  });
}

/** What an operator does about a directory this process may not write: the usual deployment slip. */
function fixFor(code: string | undefined): string {
  if (code === 'EACCES' || code === 'EPERM') {
    const uid = process.getuid?.();
    return ` (this process runs as uid ${uid ?? '?'}: the directory must be owned by it, e.g. chown -R ${uid ?? '<uid>'} <dir>)`;
  }
  if (code === 'ENOTDIR' || code === 'EEXIST') return ' (a file stands where a directory is expected)';
  if (code === 'EROFS') return ' (the file system is mounted read-only)';
  return '';
}

/** Writes a small file so that readers see either the old content or the new, never a part. */
export async function writeFileAtomic(file: string, content: string | Buffer): Promise<void> {
  const partial = partialPathFor(file);
  try {
    const handle = await fs.open(partial, 'wx', FILE_MODE);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(partial, file);
    await fsyncDirectory(path.dirname(file));
  } catch (error) {
    await fs.rm(partial, { force: true });
    throw writeError(error, file);
  }
}
