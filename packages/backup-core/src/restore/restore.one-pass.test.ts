import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { type TestDatabase, withDatabase } from '@pgbackup/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runDump } from '../dump/dump.js';
import type { BackupErrorCode } from '../errors.js';
import { findBackup } from '../storage/catalog.js';
import {
  connectionOf,
  createTestDatabase,
  dumpTarget,
  type Workspace,
  workspace,
} from '../test-support/fixtures.js';
import { restoreLeftovers } from '../test-support/leftovers.js';
import { databaseDigest, withClient } from '../test-support/sample-database.js';
import { editManifest, flipBit } from '../test-support/tamper.js';
import { restoreBackup } from './restore.js';

// Restoring into a new (or empty) database checks the backup's checksum in the pass that restores
// it rather than in a pass of its own first: these are the failures that are then found only
// once the staging database holds the data.

let ws: Workspace;
let source: TestDatabase;
let sourceDigest: Record<string, string>;

beforeAll(async () => {
  source = await createTestDatabase('onepass');
  await source.query(`
    CREATE TABLE public.items (id int PRIMARY KEY, label text NOT NULL);
    INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 3000) g;
    CREATE TABLE public.notes (item int, body text);
    INSERT INTO public.notes SELECT g % 3000, md5(g::text) FROM generate_series(1, 2000) g;
  `);
  sourceDigest = await databaseDigest(source.url);
});

afterEach(async () => {
  await ws?.remove();
});

async function backedUp(): Promise<string> {
  ws = await workspace();
  const { manifest } = await runDump({
    target: dumpTarget(source),
    backupDir: ws.backupDir,
    logDir: ws.logDir,
  });
  return manifest.id;
}

async function databaseExists(name: string): Promise<boolean> {
  return withClient(withDatabase(source.url, 'postgres'), async (client) => {
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rows.length > 0;
  });
}

function restoreInto(id: string, database: string, parallel: { tempDir: string } | undefined) {
  return restoreBackup({
    backupDir: ws.backupDir,
    logDir: ws.logDir,
    id,
    to: { ...connectionOf(source.url), database },
    ...(parallel ? { jobs: 2, parallelMinBytes: 0, tempDir: parallel.tempDir } : {}),
  }).then(
    () => undefined as BackupErrorCode | undefined,
    (error: { code?: BackupErrorCode }) => error.code,
  );
}

describe.each([
  ['streamed, one job', false],
  ['--jobs 2, decoded to a temporary file', true],
] as const)('a restore into a new database, %s', (_label, parallel) => {
  it('fails on a checksum mismatch that shows only at the end (the archive restores fine), leaving nothing behind', async () => {
    const id = await backedUp();
    // The bytes decode and restore as they are: only their hash, taken on the way, can tell.
    await editManifest(ws.backupDir, id, (m) => ({ ...m, sha256: 'a'.repeat(64) }));
    const tempDir = await fs.mkdtemp(`${ws.root}/tmp-`);
    const leftovers = await restoreLeftovers(source.url);
    const database = `onepass_${randomBytes(3).toString('hex')}`;

    expect(await restoreInto(id, database, parallel ? { tempDir } : undefined)).toBe('CHECKSUM_MISMATCH');
    expect(await databaseExists(database)).toBe(false);
    expect(await leftovers.check()).toEqual([]);
    expect(await fs.readdir(tempDir)).toEqual([]);
    // Recorded as the separate checksum pass would have: the backup no longer counts as verified.
    expect((await findBackup(ws.backupDir, id)).manifest.verifications.at(-1)).toMatchObject({
      level: 'checksum',
      ok: false,
      errorCode: 'CHECKSUM_MISMATCH',
    });
  });

  it('fails on a flipped bit (the stream does not decode) as CHECKSUM_MISMATCH, leaving nothing behind', async () => {
    const id = await backedUp();
    await flipBit((await findBackup(ws.backupDir, id)).filePath);
    const tempDir = await fs.mkdtemp(`${ws.root}/tmp-`);
    const leftovers = await restoreLeftovers(source.url);
    const database = `onepass_${randomBytes(3).toString('hex')}`;

    expect(await restoreInto(id, database, parallel ? { tempDir } : undefined)).toBe('CHECKSUM_MISMATCH');
    expect(await databaseExists(database)).toBe(false);
    expect(await leftovers.check()).toEqual([]);
    expect(await fs.readdir(tempDir)).toEqual([]);
  });

  it('restores an intact backup and records the checksum it checked on the way', async () => {
    const id = await backedUp();
    const database = `onepass_${randomBytes(3).toString('hex')}`;
    const tempDir = await fs.mkdtemp(`${ws.root}/tmp-`);

    expect(await restoreInto(id, database, parallel ? { tempDir } : undefined)).toBeUndefined();
    expect(await databaseDigest(withDatabase(source.url, database))).toEqual(sourceDigest);
    expect((await findBackup(ws.backupDir, id)).manifest.verifications.at(-1)).toMatchObject({
      level: 'checksum',
      ok: true,
    });
  });
});
