import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newBackupId } from '../ids.js';
import { type Workspace, workspace } from '../test-support/fixtures.js';
import { backupFileName, MANIFEST_SUFFIX, partialPathFor } from './layout.js';
import { sweepOrphans } from './sweep.js';
import { tmpAreaOf, tmpDownloadPath } from './tmp-area.js';

let ws: Workspace;
afterEach(async () => {
  await ws?.remove();
});

const hour = 3600_000;
const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, '_');

/** The pid of a process that has exited (and was reaped): nobody owns it now. */
function deadPid(): number {
  const child = spawnSync('true');
  if (child.pid === undefined) throw new Error('could not start `true`');
  return child.pid;
}

async function put(file: string, ageMs = 0): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, 'bytes');
  const at = new Date(Date.now() - ageMs);
  await fs.utimes(file, at, at);
  return file;
}

function backupPath(target: string, ageMs: number, suffix: string): string {
  const id = newBackupId(target, new Date(Date.now() - ageMs), suffix);
  return path.join(ws.backupDir, target, backupFileName(id, 'zstd', false));
}

function partialOf(finalPath: string, pid: number, owner = host): string {
  const name = `.${path.basename(finalPath)}.${owner}.${pid}.0123abcd.partial`;
  return path.join(path.dirname(finalPath), name);
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

describe('sweepOrphans', () => {
  it("removes a download in the tmp area whose process is gone or that is a day old, keeps a live one; a target's sweep leaves the tmp area alone", async () => {
    ws = await workspace();
    const alive = await put(await tmpDownloadPath(ws.backupDir, 'restore'));
    expect(path.dirname(alive)).toBe(tmpAreaOf(ws.backupDir));
    expect(path.basename(alive)).not.toMatch(/\.dump/);
    const dead = await put(
      path.join(tmpAreaOf(ws.backupDir), `restore.${host}.${deadPid()}.0123abcd.download`),
    );
    const foreignFresh = await put(
      path.join(tmpAreaOf(ws.backupDir), 'verify.otherhost.12.0123abcd.download'),
    );
    const foreignOld = await put(
      path.join(tmpAreaOf(ws.backupDir), 'verify.otherhost.13.0123abcd.download'),
      25 * hour,
    );

    expect((await sweepOrphans(ws.backupDir, { target: 'app' })).removed).toEqual([]);
    const { removed } = await sweepOrphans(ws.backupDir);
    expect(removed.sort()).toEqual([dead, foreignOld].sort());
    expect(await exists(alive)).toBe(true);
    expect(await exists(foreignFresh)).toBe(true);
  });

  it('removes a partial file whose writer on this host is dead, keeps one whose writer lives', async () => {
    ws = await workspace();
    const final = backupPath('app', 0, 'aaaaaa');
    const dead = await put(partialOf(final, deadPid()));
    const alive = await put(partialPathFor(final));
    expect(alive).toContain(`.${process.pid}.`);

    const { removed } = await sweepOrphans(ws.backupDir);
    expect(removed).toEqual([dead]);
    expect(await exists(dead)).toBe(false);
    expect(await exists(alive)).toBe(true);
  });

  it('removes a partial file of a live pid of this host once it is untouched for foreignAfterMs (a reused pid)', async () => {
    ws = await workspace();
    const final = backupPath('app', 0, 'abcabc');
    const stale = await put(partialOf(final, process.pid), 25 * hour);
    const fresh = await put(partialOf(backupPath('app', 0, 'bcdbcd'), process.pid), 60_000);

    const { removed } = await sweepOrphans(ws.backupDir);
    expect(removed).toEqual([stale]);
    expect(await exists(fresh)).toBe(true);
  });

  it('keeps a young partial file of another host, removes an old one', async () => {
    ws = await workspace();
    const final = backupPath('app', 0, 'bbbbbb');
    const young = await put(partialOf(final, 1, 'elsewhere'));
    const old = await put(partialOf(backupPath('app', 0, 'cccccc'), 1, 'elsewhere'), 25 * hour);

    const { removed } = await sweepOrphans(ws.backupDir);
    expect(removed).toEqual([old]);
    expect(await exists(young)).toBe(true);
  });

  it('removes a backup file without manifest past orphanAfterMs and keeps a young one', async () => {
    ws = await workspace();
    const old = await put(backupPath('app', 3 * hour, 'dddddd'), 2 * hour);
    const young = await put(backupPath('app', 0, 'eeeeee'), 60_000);

    const { removed } = await sweepOrphans(ws.backupDir, { orphanAfterMs: hour });
    expect(removed).toEqual([old]);
    expect(await exists(young)).toBe(true);
  });

  it('never touches a backup file that has a manifest, however old, nor unrelated files', async () => {
    ws = await workspace();
    const file = await put(backupPath('app', 100 * hour, 'ffffff'), 100 * hour);
    const id = path.basename(file).split('.dump')[0]!;
    const manifest = await put(path.join(path.dirname(file), `${id}${MANIFEST_SUFFIX}`), 100 * hour);
    const notes = await put(path.join(ws.backupDir, 'app', 'README.txt'), 100 * hour);
    const elsewhere = await put(path.join(ws.backupDir, '.hidden', `${id}.dump.zst`), 100 * hour);

    const { removed } = await sweepOrphans(ws.backupDir, { orphanAfterMs: 0, foreignAfterMs: 0 });
    expect(removed).toEqual([]);
    for (const kept of [file, manifest, notes, elsewhere]) expect(await exists(kept)).toBe(true);
  });

  it('does nothing when the backup directory does not exist', async () => {
    ws = await workspace();
    expect(await sweepOrphans(ws.backupDir)).toEqual({ removed: [] });
    expect(await exists(ws.backupDir)).toBe(false);
  });
});
