import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isBackupId, targetNamePattern } from '../ids.js';
import { processIsAlive } from '../process/alive.js';
import { MANIFEST_SUFFIX, PARTIAL_SUFFIX, partialOwner } from './layout.js';
import { MANIFEST_LOCK_SUFFIX } from './manifest-lock.js';
import { sweepTmpArea } from './tmp-area.js';

export interface SweepOptions {
  /**
   * Partial files of other hosts (or unreadable owners) are removed only past this age: with
   * several workers on one disk, another host's dump may still be writing. Partial files of this
   * host are removed when their writer is gone, or past this age (the pid may have been reused).
   * Default 24 h.
   */
  foreignAfterMs?: number;
  /** Backup files with no manifest are removed past this age (a dump between rename and manifest). Default 1 h. */
  orphanAfterMs?: number;
  now?: Date;
  /** Only this target's directory. */
  target?: string;
}

export interface SweepResult {
  removed: string[];
}

/**
 * Removes what dead runs left: partial files whose writer (same host) is gone or that are old,
 * and backup files that never got their manifest. Never touches a file that has a manifest.
 */
export async function sweepOrphans(backupDir: string, options: SweepOptions = {}): Promise<SweepResult> {
  const now = (options.now ?? new Date()).getTime();
  const foreignAfter = options.foreignAfterMs ?? 24 * 3600_000;
  const orphanAfter = options.orphanAfterMs ?? 3600_000;
  const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, '_');
  const removed: string[] = [];
  let targets: string[];
  try {
    targets = options.target
      ? [options.target]
      : (await fs.readdir(backupDir)).filter((name) => targetNamePattern.test(name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { removed };
    throw error;
  }
  for (const target of targets) {
    const dir = path.join(backupDir, target);
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      continue;
    }
    const manifests = new Set(
      names.filter((n) => n.endsWith(MANIFEST_SUFFIX)).map((n) => n.slice(0, -MANIFEST_SUFFIX.length)),
    );
    for (const name of names) {
      const file = path.join(dir, name);
      let remove = false;
      if (name.endsWith(PARTIAL_SUFFIX)) {
        const owner = partialOwner(name);
        const stat = await fs.stat(file).catch(() => undefined);
        const age = stat ? now - stat.mtimeMs : 0;
        // A live pid is not proof: a restarted container runs its new worker under the old pid
        // and hostname. A writer updates its file all the time, so one untouched this long is dead.
        remove =
          owner && owner.host === host
            ? !processIsAlive(owner.pid) || age > foreignAfter
            : age > foreignAfter;
      } else if (name.startsWith('.') && name.endsWith(MANIFEST_LOCK_SUFFIX)) {
        // A manifest lock left by a process that died mid-update (manifest-lock.ts).
        const stat = await fs.stat(file).catch(() => undefined);
        remove = stat !== undefined && now - stat.mtimeMs > orphanAfter;
      } else {
        const id = name.split('.dump')[0] ?? '';
        if (name.includes('.dump') && isBackupId(id) && !manifests.has(id)) {
          const stat = await fs.stat(file).catch(() => undefined);
          remove = stat !== undefined && now - stat.mtimeMs > orphanAfter;
        }
      }
      if (remove) {
        await fs.rm(file, { force: true });
        removed.push(file);
      }
    }
  }
  // Downloads from a destination left by a crashed restore or verify (tmp-area.ts).
  if (!options.target)
    removed.push(...(await sweepTmpArea(backupDir, { now, foreignAfterMs: foreignAfter })));
  return { removed };
}
