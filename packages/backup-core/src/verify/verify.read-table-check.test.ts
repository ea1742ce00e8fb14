import { createTestDatabase, type TestDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDump } from '../dump/dump.js';
import { isBackupError } from '../errors.js';
import { dumpTarget, type Workspace, workspace } from '../test-support/fixtures.js';
import { withClient } from '../test-support/sample-database.js';
import { editManifest } from '../test-support/tamper.js';
import { verifyBackup } from './verify.js';

// The `read` level checks that every recorded table's data is in the archive from the
// "processing data for table" lines of its one pg_restore --verbose; names that could print
// alike (a dot in a name) take the `pg_restore --list` pass instead. Both ways must find a table
// the archive lacks, and neither may fail a good backup.

let source: TestDatabase;
const workspaces: Workspace[] = [];

beforeAll(async () => {
  source = await createTestDatabase('read_tables');
  await withClient(source.url, (client) =>
    client.query(`
      CREATE SCHEMA "sales.eu";
      CREATE TABLE "sales.eu"."orders.2026" (id int PRIMARY KEY);
      INSERT INTO "sales.eu"."orders.2026" SELECT generate_series(1, 50);
      CREATE TABLE public."Mixed Case" (id int);
      INSERT INTO public."Mixed Case" VALUES (1), (2);
      CREATE TABLE public.empty_one (id int);
    `),
  );
});

afterAll(async () => {
  for (const ws of workspaces) await ws.remove();
});

async function backupOf(database: TestDatabase, name: string) {
  const ws = await workspace();
  workspaces.push(ws);
  const { manifest } = await runDump({
    target: dumpTarget(database, 'zstd', name),
    backupDir: ws.backupDir,
    logDir: ws.logDir,
  });
  return { backupDir: ws.backupDir, id: manifest.id };
}

async function failureCode(run: Promise<unknown>): Promise<string | undefined> {
  try {
    await run;
    return undefined;
  } catch (error) {
    return isBackupError(error) ? error.code : String(error);
  }
}

describe('verify read: every recorded table has its data in the archive', () => {
  it('passes on a good backup with dotted, mixed-case and empty tables (the --list way)', async () => {
    const backup = await backupOf(source, 'dotted');
    const { verification } = await verifyBackup({ ...backup, level: 'read' });
    expect(verification.ok).toBe(true);
  });

  it('finds a recorded table the archive lacks, without dots in the names (the --verbose way)', async () => {
    const plain = await createTestDatabase('read_tables_plain');
    await withClient(plain.url, (client) =>
      client.query(
        'CREATE TABLE public."Mixed Case" (id int); INSERT INTO public."Mixed Case" VALUES (1); CREATE TABLE public.empty_one (id int);',
      ),
    );
    const backup = await backupOf(plain, 'plain');
    expect((await verifyBackup({ ...backup, level: 'read', record: false })).verification.ok).toBe(true);
    await editManifest(backup.backupDir, backup.id, (m) => ({
      ...m,
      tables: [...m.tables, { schema: 'public', name: 'Ghost Table', rows: 0, bytes: 0 }],
      tableCount: m.tableCount + 1,
    }));
    expect(await failureCode(verifyBackup({ ...backup, level: 'read' }))).toBe('ARCHIVE_CONTENT_MISMATCH');
  });

  it('finds a recorded table the archive lacks when names hold dots (the --list way)', async () => {
    const backup = await backupOf(source, 'dotted_ghost');
    await editManifest(backup.backupDir, backup.id, (m) => ({
      ...m,
      tables: [...m.tables, { schema: 'sales.eu', name: 'ghost.2026', rows: 0, bytes: 0 }],
      tableCount: m.tableCount + 1,
    }));
    expect(await failureCode(verifyBackup({ ...backup, level: 'read' }))).toBe('ARCHIVE_CONTENT_MISMATCH');
  });
});
