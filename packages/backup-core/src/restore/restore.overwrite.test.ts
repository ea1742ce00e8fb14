import { type TestDatabase, withDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDump } from '../dump/dump.js';
import { listBackups } from '../storage/catalog.js';
import {
  connectionOf,
  createTestDatabase,
  dumpTarget,
  type Workspace,
  workspace,
} from '../test-support/fixtures.js';
import { restoreLeftovers } from '../test-support/leftovers.js';
import { databaseDigest } from '../test-support/sample-database.js';
import { type ProtectedDatabase, targetDatabases } from './protected.js';
import { type RestoreOptions, restoreBackup, safetyTargetName } from './restore.js';

// "Empty" means empty: a database holding only a view, a sequence, a function, a type or a large
// object is somebody's work, and replacing it needs --force and a safety dump like any other.
let ws: Workspace;
let source: TestDatabase;
let sourceDigest: Record<string, string>;
let backupId: string;

beforeAll(async () => {
  source = await createTestDatabase('owsrc');
  await source.query(
    'CREATE TABLE public.items AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 500) g',
  );
  sourceDigest = await databaseDigest(source.url);
  ws = await workspace();
  backupId = (await runDump({ target: dumpTarget(source), backupDir: ws.backupDir, logDir: ws.logDir }))
    .manifest.id;
});

afterAll(async () => {
  await ws?.remove();
});

function restoreInto(database: string, extra: Partial<RestoreOptions> = {}) {
  return restoreBackup({
    backupDir: ws.backupDir,
    logDir: ws.logDir,
    id: backupId,
    to: { ...connectionOf(source.url), database },
    ...extra,
  });
}

async function refusal(promise: Promise<unknown>): Promise<{ code?: string; message: string } | undefined> {
  return promise.then(
    () => undefined,
    (error: { code?: string; message: string }) => ({ code: error.code, message: error.message }),
  );
}

describe('a database is empty only when it holds nothing at all', () => {
  it.each([
    ['a view', 'CREATE VIEW public.v AS SELECT 1 AS one', '1 view(s)'],
    [
      'a materialized view',
      'CREATE MATERIALIZED VIEW public.mv AS SELECT 1 AS one',
      '1 materialized view(s)',
    ],
    ['a sequence', 'CREATE SEQUENCE public.s', '1 sequence(s)'],
    ['a function', 'CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$', '1 function(s)'],
    ['a type', "CREATE TYPE public.mood AS ENUM ('ok', 'sad')", '1 type(s)'],
    ['a large object', 'SELECT lo_from_bytea(0, $$keep me$$::bytea)', '1 large object(s)'],
    [
      'a partitioned table',
      'CREATE TABLE public.p (d date) PARTITION BY RANGE (d)',
      '1 partitioned table(s)',
    ],
    [
      'a table in its own schema, a view and two functions',
      `CREATE SCHEMA app; CREATE TABLE app.t (id int); CREATE VIEW app.v AS SELECT * FROM app.t;
       CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
       CREATE FUNCTION app.g() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$`,
      '1 table(s), 1 view(s), 2 function(s)',
    ],
  ])(
    'refuses a database holding only %s without force, and says what it found',
    async (_what, sql, found) => {
      const target = await createTestDatabase('owonly');
      await target.query(sql);
      const before = await databaseDigest(target.url);
      const leftovers = await restoreLeftovers(source.url);

      const error = await refusal(restoreInto(target.name));
      expect(error?.code).toBe('RESTORE_TARGET_NOT_EMPTY');
      expect(error?.message).toContain(`holds ${found}:`);
      expect(await databaseDigest(target.url)).toEqual(before);
      expect(await leftovers.check()).toEqual([]);
    },
  );

  it('still restores into a database that is really empty, without force', async () => {
    const target = await createTestDatabase('owempty');
    const result = await restoreInto(target.name);
    expect(result).toMatchObject({ replacedExisting: true });
    expect(result.safetyBackupId).toBeUndefined();
    expect(await databaseDigest(target.url)).toEqual(sourceDigest);
  });
});

describe('databases a restore never writes to', () => {
  it.each(['template0', 'template1', 'postgres'])('refuses %s, even with force', async (database) => {
    const error = await refusal(restoreInto(database, { force: true }));
    expect(error?.code).toBe('RESTORE_DATABASE_INVALID');
    expect(error?.message).toContain(`restore database ${database} is refused`);
  });
});

describe("a configured target's own database", () => {
  async function targetDatabase(): Promise<{ db: TestDatabase; guard: ProtectedDatabase[] }> {
    const db = await createTestDatabase('owtarget');
    await db.query('CREATE TABLE public.live (id int); INSERT INTO public.live SELECT generate_series(1, 7)');
    const connection = connectionOf(db.url);
    // As the worker passes them: every configured target; localhost and 127.0.0.1 are one server.
    const guard = targetDatabases([
      { name: 'other', connection: { ...connection, database: 'elsewhere' } },
      { name: 'shop', connection: { ...connection, host: 'localhost', database: db.name } },
    ]);
    return { db, guard };
  }

  it('is refused without --confirm, and with a wrong one, even with force, changing nothing', async () => {
    const { db, guard } = await targetDatabase();
    const before = await databaseDigest(db.url);

    const missing = await refusal(restoreInto(db.name, { force: true, protectedDatabases: guard }));
    expect(missing?.code).toBe('RESTORE_CONFIRM_REQUIRED');
    expect(missing?.message).toContain(`database ${db.name} is the database target shop backs up`);
    expect(missing?.message).toContain('--confirm shop');
    const wrong = await refusal(
      restoreInto(db.name, { force: true, protectedDatabases: guard, confirm: 'other' }),
    );
    expect(wrong?.code).toBe('RESTORE_CONFIRM_REQUIRED');
    expect(wrong?.message).toContain('--confirm "other" does not name it');

    expect(await databaseDigest(db.url)).toEqual(before);
    expect((await listBackups(ws.backupDir, { target: safetyTargetName(db.name) })).entries).toEqual([]);
  });

  it('is replaced with --confirm and --force; the safety dump was read back in full first', async () => {
    const { db, guard } = await targetDatabase();
    const withoutForce = await refusal(restoreInto(db.name, { protectedDatabases: guard, confirm: 'shop' }));
    expect(withoutForce?.code).toBe('RESTORE_TARGET_NOT_EMPTY');

    const result = await restoreInto(db.name, { force: true, protectedDatabases: guard, confirm: 'shop' });
    expect(result).toMatchObject({ database: db.name, replacedExisting: true });
    expect(await databaseDigest(db.url)).toEqual(sourceDigest);
    const safety = (await listBackups(ws.backupDir, { target: safetyTargetName(db.name) })).entries;
    expect(safety.map((e) => e.manifest.id)).toEqual([result.safetyBackupId]);
    expect(safety[0]!.manifest.verifications).toMatchObject([{ level: 'read', ok: true }]);
  });

  it('a database of the same name on another port is not protected', async () => {
    const { db, guard } = await targetDatabase();
    const elsewhere = guard.map((g) => ({ ...g, port: g.port + 1 }));
    const result = await restoreInto(db.name, { force: true, protectedDatabases: elsewhere });
    expect(result.replacedExisting).toBe(true);
    expect(await databaseDigest(withDatabase(source.url, db.name))).toEqual(sourceDigest);
  });
});
