import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { syntheticBackup } from '../test-support/offsite.js';
import { deleteBackup, listBackups, readManifest, recordVerification } from './catalog.js';

// listBackups keeps each target directory's listing while the directory is unchanged (its
// modification time and its names). These tests make the cache hold a listing (directories dated
// in the past, as a settled catalog is), change the catalog as workers do, and compare every
// listing with the truth read manifest by manifest.

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'catalog-cache-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const targets = ['app', 'shop'];
// Each settle dates the directories a second later than the one before, still a day back: a real
// directory's time never returns to a value it had, and the cache relies on that. Setting the same
// past time again after a write would hide the write from any cache keyed by time, a situation no
// file system produces (a reader that listed between a rename and the next settle kept the old
// manifest under the same time, and a later listing returned it).
const settledBase = Date.now() - 86_400_000;
let settles = 0;

async function backup(target: string, createdAt: Date): Promise<string> {
  return (await syntheticBackup(dir, 64, target, createdAt)).manifest.id;
}

/** Dates every target directory a day back: a settled catalog, whose listing the cache keeps. */
async function settle(past = new Date(settledBase + ++settles * 1_000)): Promise<Date> {
  for (const target of targets) await fs.utimes(path.join(dir, target), past, past);
  return past;
}

/** The catalog read manifest by manifest, without listBackups. */
async function truth(): Promise<string[]> {
  const lines: string[] = [];
  for (const target of targets) {
    for (const name of await fs.readdir(path.join(dir, target))) {
      if (!name.endsWith('.manifest.json')) continue;
      const manifest = await readManifest(path.join(dir, target, name));
      lines.push(`${manifest.id} ${manifest.verifications.length}`);
    }
  }
  return lines.sort();
}

async function listed(): Promise<string[]> {
  const { entries } = await listBackups(dir);
  return entries.map((entry) => `${entry.manifest.id} ${entry.manifest.verifications.length}`).sort();
}

it('is exact after every kind of change a worker makes to a settled catalog', async () => {
  const ids: string[] = [];
  for (const target of targets)
    for (let day = 1; day <= 5; day++)
      ids.push(await backup(target, new Date(Date.now() - day * 86_400_000)));
  await settle();
  expect(await listed()).toEqual(await truth());

  const changes: Array<[string, () => Promise<unknown>]> = [
    [
      'a verification recorded',
      () =>
        recordVerification(dir, ids[0]!, {
          level: 'read',
          ok: true,
          at: new Date().toISOString(),
          durationMs: 1,
        }),
    ],
    ['a new backup', () => backup('shop', new Date())],
    ['a backup pruned', () => deleteBackup(dir, 'app', ids[1]!)],
    [
      'a partial file left by a running dump',
      () => fs.writeFile(path.join(dir, 'app', '.partial-x.dump'), 'x'),
    ],
  ];
  for (const [what, change] of changes) {
    await listed(); // the listing the cache now holds
    await change();
    expect(await listed(), what).toEqual(await truth());
    await settle();
    expect(await listed(), `${what}, settled`).toEqual(await truth());
  }
});

it('reads a directory again when its names change even though its time does not (a stale attribute cache)', async () => {
  await backup('app', new Date(Date.now() - 86_400_000));
  await fs.mkdir(path.join(dir, 'shop'));
  const settledAt = await settle();
  expect(await listed()).toHaveLength(1);
  await backup('app', new Date());
  await settle(settledAt); // the time as it was: only the names tell
  expect(await listed()).toEqual(await truth());
  expect(await listed()).toHaveLength(2);
});

it('stays exact while writers change the catalog and a reader lists it over and over', async () => {
  const ids: string[] = [];
  for (const target of targets)
    for (let day = 1; day <= 10; day++)
      ids.push(await backup(target, new Date(Date.now() - day * 86_400_000)));
  await settle();
  let writing = true;
  const writer = async (seed: number) => {
    for (let round = 0; writing; round++) {
      const id = ids[(seed * 7 + round) % ids.length]!;
      await recordVerification(dir, id, {
        level: 'read',
        ok: true,
        at: new Date().toISOString(),
        durationMs: 1,
      });
      if (round % 5 === 0) await settle(); // old times, so the cache keeps listings between writes
    }
  };
  const reader = async () => {
    let lists = 0;
    while (writing) {
      await listBackups(dir);
      lists++;
    }
    return lists;
  };
  const running = [writer(1), writer(2), writer(3)];
  const reading = reader();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  writing = false;
  await Promise.all(running);
  expect(await reading).toBeGreaterThan(0);
  // As the writers left it (a listing the reader cached during the run would show here), then settled.
  expect(await listed()).toEqual(await truth());
  await settle();
  expect(await listed()).toEqual(await truth());
});
