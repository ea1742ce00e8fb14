import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseBackupId } from '../ids.js';
import type { Compression } from '../manifest.js';

/**
 * On disk: `<backupDir>/<target>/<id>.dump[.zst|.gz][.enc]` and `<id>.manifest.json` beside it.
 * Work in progress is `.<final name>.<host>.<pid>.<random>.partial` in the same directory (so the
 * final rename is atomic), never listed as a backup because only manifests make the catalog.
 */
export const MANIFEST_SUFFIX = '.manifest.json';
export const PARTIAL_SUFFIX = '.partial';

export function targetDirectory(backupDir: string, target: string): string {
  return path.join(backupDir, target);
}

export function backupFileName(id: string, compression: Compression, encrypted: boolean): string {
  const compressed = compression === 'zstd' ? '.zst' : compression === 'gzip' ? '.gz' : '';
  return `${id}.dump${compressed}${encrypted ? '.enc' : ''}`;
}

export function manifestPathFor(backupDir: string, id: string): string {
  const { target } = parseBackupId(id);
  return path.join(targetDirectory(backupDir, target), `${id}${MANIFEST_SUFFIX}`);
}

export function partialPathFor(finalPath: string): string {
  const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, '_');
  const name = `.${path.basename(finalPath)}.${host}.${process.pid}.${randomBytes(4).toString('hex')}${PARTIAL_SUFFIX}`;
  return path.join(path.dirname(finalPath), name);
}

/** Host and pid of the process that wrote a partial file, read back from its name. */
export function partialOwner(fileName: string): { host: string; pid: number } | undefined {
  const match = /\.([A-Za-z0-9_-]+)\.(\d+)\.[0-9a-f]{8}\.partial$/.exec(fileName);
  if (!match) return undefined;
  return { host: match[1]!, pid: Number(match[2]) };
}
