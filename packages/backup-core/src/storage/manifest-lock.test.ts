import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Copy, Verification } from '../manifest.js';
import { syntheticBackup } from '../test-support/offsite.js';
import { findBackup, listBackups, recordCopy, recordVerification } from './catalog.js';
import { manifestLockPath } from './manifest-lock.js';
import { sweepOrphans } from './sweep.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const copyTo = (destination: string, sha256: string): Copy => ({
  destination,
  bucket: 'b',
  key: `k/${destination}`,
  sizeBytes: 1024,
  sha256,
  confirmedAt: new Date().toISOString(),
});
const verification: Verification = { level: 'read', ok: false, at: new Date().toISOString(), durationMs: 5 };

describe('manifest updates', () => {
  it('two copies and a verification recorded at the same moment are all kept', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-manifest-lock-'));
    const entry = await syntheticBackup(dir, 1024);
    const { id, sha256 } = entry.manifest;
    await Promise.all([
      recordCopy(dir, id, copyTo('a', sha256)),
      recordCopy(dir, id, copyTo('b', sha256)),
      recordVerification(dir, id, verification),
    ]);
    const { manifest } = await findBackup(dir, id);
    expect(manifest.copies?.map((copy) => copy.destination).sort()).toEqual(['a', 'b']);
    expect(manifest.verifications).toEqual([verification]);
    await expect(fs.stat(manifestLockPath(dir, id))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("waits for another process's lock, and takes over one left by a dead process", async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-manifest-lock-'));
    const entry = await syntheticBackup(dir, 1024);
    const { id, sha256 } = entry.manifest;
    const lock = manifestLockPath(dir, id);
    await fs.writeFile(lock, 'elsewhere 1\n');
    let done = false;
    const recording = recordCopy(dir, id, copyTo('a', sha256)).then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(done).toBe(false);
    await fs.rm(lock);
    await recording;
    expect((await findBackup(dir, id)).manifest.copies).toHaveLength(1);

    // Two minutes old: its process died mid-update.
    await fs.writeFile(lock, 'elsewhere 2\n');
    const old = new Date(Date.now() - 120_000);
    await fs.utimes(lock, old, old);
    await recordCopy(dir, id, copyTo('b', sha256));
    expect((await findBackup(dir, id)).manifest.copies).toHaveLength(2);
  });

  it('a lock file is never listed as a backup, and an old one is swept', async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-manifest-lock-'));
    const entry = await syntheticBackup(dir, 1024);
    const lock = manifestLockPath(dir, entry.manifest.id);
    await fs.writeFile(lock, 'dead 1\n');
    expect((await listBackups(dir)).entries.map((e) => e.manifest.id)).toEqual([entry.manifest.id]);
    const old = new Date(Date.now() - 3 * 86_400_000);
    await fs.utimes(lock, old, old);
    const { removed } = await sweepOrphans(dir);
    expect(removed).toEqual([lock]);
  });
});
