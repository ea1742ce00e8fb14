import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { processIsAlive } from '../process/alive.js';
import { ensurePrivateDirectory } from './durable-fs.js';

/**
 * `<backupDir>/.tmp/`: where a backup fetched from a destination waits while it is checked and
 * restored, verified or drilled. In the backup directory rather than the system's /tmp because it is on
 * the filesystem sized for backups (/tmp is often a small tmpfs). The directory's name starts
 * with a dot, so it is never a target directory: the catalog and the orphan sweep never look in
 * it, and the files in it are named `<purpose>.<host>.<pid>.<random>.download`, never like a
 * backup, so nothing in it can be taken for one.
 */
export const TMP_AREA = '.tmp';
const DOWNLOAD_SUFFIX = '.download';

export function tmpAreaOf(backupDir: string): string {
  return path.join(backupDir, TMP_AREA);
}

function hostLabel(): string {
  return os.hostname().replace(/[^A-Za-z0-9_-]/g, '_');
}

/** A fresh path in the tmp area (created 0700 if needed); nothing is written yet. */
export async function tmpDownloadPath(
  backupDir: string,
  purpose: 'restore' | 'verify' | 'drill',
): Promise<string> {
  await ensurePrivateDirectory(backupDir);
  const dir = tmpAreaOf(backupDir);
  await ensurePrivateDirectory(dir);
  const name = `${purpose}.${hostLabel()}.${process.pid}.${randomBytes(4).toString('hex')}${DOWNLOAD_SUFFIX}`;
  return path.join(dir, name);
}

function ownerOf(name: string): { host: string; pid: number } | undefined {
  const match = /^[a-z]+\.([A-Za-z0-9_-]+)\.(\d+)\.[0-9a-f]{8}\.download$/.exec(name);
  return match ? { host: match[1]!, pid: Number(match[2]) } : undefined;
}

/**
 * Removes downloads whose process is gone (same host) or that are older than `foreignAfterMs`
 * (another host's, or a reused pid): a crash in the middle of a restore from a bucket leaves one.
 */
export async function sweepTmpArea(
  backupDir: string,
  options: { now: number; foreignAfterMs: number },
): Promise<string[]> {
  const dir = tmpAreaOf(backupDir);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.endsWith(DOWNLOAD_SUFFIX)) continue;
    const file = path.join(dir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat) continue;
    const owner = ownerOf(name);
    const old = options.now - stat.mtimeMs > options.foreignAfterMs;
    const remove = owner && owner.host === hostLabel() ? !processIsAlive(owner.pid) || old : old;
    if (remove) {
      await fs.rm(file, { force: true });
      removed.push(file);
    }
  }
  return removed;
}
