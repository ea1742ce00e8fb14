import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type TestDatabase, withDatabase } from '@pgbackup/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runDump } from '../dump/dump.js';
import type { BackupErrorCode } from '../errors.js';
import { findBackup, listBackups } from '../storage/catalog.js';
import {
  connectionOf,
  createTestDatabase,
  dumpTarget,
  type Workspace,
  workspace,
} from '../test-support/fixtures.js';
import { restoreLeftovers } from '../test-support/leftovers.js';
import { databaseDigest } from '../test-support/sample-database.js';
import { editManifest, flipBit } from '../test-support/tamper.js';
import { restoreBackup, safetyTargetName } from './restore.js';

let ws: Workspace;
let source: TestDatabase;
let sourceDigest: Record<string, string>;
let backupId: string;

afterEach(async () => {
  await ws?.remove();
});

beforeAll(async () => {
  source = await createTestDatabase('restsrc');
  await source.query(`
    CREATE TABLE public.items (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, label text NOT NULL);
    INSERT INTO public.items (label) SELECT 'item ' || g FROM generate_series(1, 2000) g;
    CREATE SCHEMA ledger;
    CREATE TABLE ledger.moves (item int REFERENCES public.items(id), qty int NOT NULL);
    INSERT INTO ledger.moves SELECT 1 + g % 2000, g FROM generate_series(1, 3000) g;
  `);
  sourceDigest = await databaseDigest(source.url);
});

/** A fresh workspace holding one backup of the source (its file is this test's to damage). */
async function backedUp(): Promise<void> {
  ws = await workspace();
  const { manifest } = await runDump({
    target: dumpTarget(source),
    backupDir: ws.backupDir,
    logDir: ws.logDir,
  });
  backupId = manifest.id;
}

/** An existing database with other data in it: what a restore must not destroy by mistake. */
async function occupiedDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase('resttgt');
  await db.query(`
    CREATE TABLE public.precious (id int PRIMARY KEY, note text);
    INSERT INTO public.precious SELECT g, 'keep me ' || g FROM generate_series(1, 300) g;
  `);
  return db;
}

function restoreInto(database: string, extra: { force?: boolean; backupDir?: string; id?: string } = {}) {
  return restoreBackup({
    backupDir: extra.backupDir ?? ws.backupDir,
    logDir: ws.logDir,
    id: extra.id ?? backupId,
    to: { ...connectionOf(source.url), database },
    ...(extra.force ? { force: true } : {}),
  });
}

async function failureCode(promise: Promise<unknown>): Promise<BackupErrorCode | undefined> {
  return promise.then(
    () => undefined,
    (error: { code?: BackupErrorCode }) => error.code,
  );
}

describe('restore refuses what would lose data', () => {
  it('refuses a corrupted backup and leaves the target database as it was', async () => {
    await backedUp();
    const leftovers = await restoreLeftovers(source.url);
    await flipBit((await findBackup(ws.backupDir, backupId)).filePath);
    const target = await occupiedDatabase();
    const before = await databaseDigest(target.url);

    expect(await failureCode(restoreInto(target.name, { force: true }))).toBe('CHECKSUM_MISMATCH');
    expect(await databaseDigest(target.url)).toEqual(before);
    expect(await leftovers.check()).toEqual([]);
    // No safety dump either: nothing was about to be replaced.
    expect((await listBackups(ws.backupDir, { target: safetyTargetName(target.name) })).entries).toEqual([]);
  });

  it('refuses to replace a database holding tables without force, changing nothing', async () => {
    await backedUp();
    const leftovers = await restoreLeftovers(source.url);
    const target = await occupiedDatabase();
    const before = await databaseDigest(target.url);

    expect(await failureCode(restoreInto(target.name))).toBe('RESTORE_TARGET_NOT_EMPTY');
    expect(await databaseDigest(target.url)).toEqual(before);
    expect(await leftovers.check()).toEqual([]);
    expect((await listBackups(ws.backupDir)).entries.map((e) => e.manifest.id)).toEqual([backupId]);
  });

  it('with force, takes a checked safety dump first, and that dump brings the old data back', async () => {
    await backedUp();
    const leftovers = await restoreLeftovers(source.url);
    const target = await occupiedDatabase();
    const before = await databaseDigest(target.url);

    const result = await restoreInto(target.name, { force: true });
    expect(result.replacedExisting).toBe(true);
    expect(await databaseDigest(target.url)).toEqual(sourceDigest);
    expect(await leftovers.check()).toEqual([]);

    const safety = (await listBackups(ws.backupDir, { target: safetyTargetName(target.name) })).entries;
    expect(safety.map((e) => e.manifest.id)).toEqual([result.safetyBackupId]);
    expect(safety[0]!.manifest.verifications).toMatchObject([{ level: 'read', ok: true }]);
    expect(safety[0]!.manifest.tables).toMatchObject([{ schema: 'public', name: 'precious', rows: 300 }]);

    const undone = await restoreInto(target.name, { force: true, id: result.safetyBackupId! });
    expect(undone.replacedExisting).toBe(true);
    expect(await databaseDigest(target.url)).toEqual(before);
    expect(await leftovers.check()).toEqual([]);
  });

  it('restores into an existing empty database without force', async () => {
    await backedUp();
    const leftovers = await restoreLeftovers(source.url);
    const target = await createTestDatabase('restempty');

    const result = await restoreInto(target.name);
    expect(result).toMatchObject({ database: target.name, replacedExisting: true });
    expect(result.safetyBackupId).toBeUndefined();
    expect(await databaseDigest(target.url)).toEqual(sourceDigest);
    expect(await leftovers.check()).toEqual([]);
  });

  it('restores from a bare copy of the file and its manifest, all other state lost', async () => {
    await backedUp();
    const leftovers = await restoreLeftovers(source.url);
    const entry = await findBackup(ws.backupDir, backupId);
    const bare = path.join(ws.root, 'copied-by-hand');
    const dir = path.join(bare, entry.manifest.target);
    await fs.mkdir(dir, { recursive: true });
    await fs.copyFile(entry.filePath, path.join(dir, path.basename(entry.filePath)));
    await fs.copyFile(entry.manifestPath, path.join(dir, path.basename(entry.manifestPath)));
    await fs.rm(ws.backupDir, { recursive: true });
    await fs.rm(ws.logDir, { recursive: true, force: true });

    const database = `${source.name}_bare_${randomBytes(2).toString('hex')}`;
    const result = await restoreInto(database, { backupDir: bare });
    expect(result.replacedExisting).toBe(false);
    expect(await databaseDigest(withDatabase(source.url, database))).toEqual(sourceDigest);
    expect(await leftovers.check()).toEqual([]);
  });
});

describe('a restore that fails in its staging database', () => {
  it('leaves the database being replaced untouched when row counts differ (ROW_COUNT_MISMATCH)', async () => {
    await backedUp();
    const leftovers = await restoreLeftovers(source.url);
    await editManifest(ws.backupDir, backupId, (m) => ({
      ...m,
      tables: m.tables.map((t) => ({ ...t, rows: t.rows + 5 })),
    }));
    const target = await occupiedDatabase();
    const before = await databaseDigest(target.url);

    expect(await failureCode(restoreInto(target.name, { force: true }))).toBe('ROW_COUNT_MISMATCH');
    expect(await databaseDigest(target.url)).toEqual(before);
    expect(await leftovers.check()).toEqual([]);
  });

  it('leaves it untouched when pg_restore fails (an owner role that no longer exists)', async () => {
    const owner = `gone_${randomBytes(4).toString('hex')}`;
    const db = await createTestDatabase('restrole');
    await db.query(
      `CREATE ROLE ${owner}; CREATE TABLE public.owned (id int); ALTER TABLE public.owned OWNER TO ${owner}`,
    );
    ws = await workspace();
    const { manifest } = await runDump({
      target: dumpTarget(db),
      backupDir: ws.backupDir,
      logDir: ws.logDir,
    });
    backupId = manifest.id;
    const leftovers = await restoreLeftovers(source.url);
    await db.query(`ALTER TABLE public.owned OWNER TO CURRENT_USER; DROP ROLE ${owner}`);
    const target = await occupiedDatabase();
    const before = await databaseDigest(target.url);

    expect(await failureCode(restoreInto(target.name, { force: true }))).toBe('RESTORE_FAILED');
    expect(await databaseDigest(target.url)).toEqual(before);
    expect(await leftovers.check()).toEqual([]);
  });
});
