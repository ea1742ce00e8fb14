import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { type TestDatabase, withDatabase as urlOf } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorKeyFromBytes } from '../crypto/index.js';
import { runDump } from '../dump/dump.js';
import type { Compression, Manifest } from '../manifest.js';
import { pgRestoreInto, withDatabase } from '../postgres/connection.js';
import { createScratchDatabase } from '../postgres/scratch.js';
import { findPgTool } from '../postgres/tools.js';
import { findBackup } from '../storage/catalog.js';
import {
  connectionOf,
  createTestDatabase,
  dumpTarget,
  type Workspace,
  workspace,
} from '../test-support/fixtures.js';
import { databaseDigest, loadSampleDatabase, withClient } from '../test-support/sample-database.js';
import { compareRowCounts } from '../verify/table-checks.js';
import { overlapDecodePays, restoreBackupInParallel } from './parallel-backup-restore.js';

const key = operatorKeyFromBytes(Buffer.alloc(32, 9));
let ws: Workspace;
let source: TestDatabase;
let sourceDigest: Record<string, string>;
let sourceSchema: string[];

/** Indexes, constraints and triggers: what post-data creates, which no table digest shows. */
async function postDataObjects(url: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ item: string }>(`
      SELECT 'index ' || schemaname || '.' || indexname AS item FROM pg_indexes
       WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
      UNION ALL
      SELECT 'constraint ' || conrelid::regclass || '.' || conname || ' ' || contype::text || ' validated ' || convalidated::text
        FROM pg_constraint WHERE conrelid <> 0 AND connamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')
      UNION ALL
      SELECT 'trigger ' || tgrelid::regclass || '.' || tgname FROM pg_trigger WHERE NOT tgisinternal
      ORDER BY 1`);
    return rows.map((row) => row.item);
  });
}

beforeAll(async () => {
  source = await createTestDatabase('parbackup');
  await loadSampleDatabase(source.url);
  // Triggers that mark every row inserted once they exist, on a table the stream loads (animals)
  // and one --jobs loads (customers): a restore that created them before loading the data would
  // mark the restored rows.
  await source.query(`
    CREATE FUNCTION public.mark() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.name := 'marked by the trigger'; RETURN NEW; END $$;
    CREATE TRIGGER mark_customers BEFORE INSERT ON sales.customers FOR EACH ROW EXECUTE FUNCTION public.mark();
    CREATE TRIGGER mark_animals BEFORE INSERT ON public.animals FOR EACH ROW EXECUTE FUNCTION public.mark();
    CREATE INDEX orders_by_customer ON sales.orders (customer_id);
  `);
  sourceDigest = await databaseDigest(source.url);
  sourceSchema = await postDataObjects(source.url);
  ws = await workspace();
});

afterAll(async () => {
  await ws?.remove();
});

/** A backup of the source, a scratch database, and restoreBackupInParallel with 2 jobs into it. */
async function restoreInto(
  compression: Compression,
  encrypted: boolean,
  check: (
    restoring: ReturnType<typeof restoreBackupInParallel>,
    scratchUrl: string,
    manifest: Manifest,
  ) => Promise<void>,
  prepare?: (scratchUrl: string) => Promise<unknown>,
) {
  const { manifest } = await runDump({
    target: dumpTarget(source, compression),
    backupDir: ws.backupDir,
    logDir: ws.logDir,
    ...(encrypted ? { encryptionKey: key } : {}),
  });
  const entry = await findBackup(ws.backupDir, manifest.id);
  const server = withDatabase(connectionOf(source.url), 'postgres');
  const scratch = await createScratchDatabase(server, `pgbackup_restore_${randomBytes(5).toString('hex')}`);
  const tempDir = await fs.mkdtemp(`${ws.root}/tmp-`);
  try {
    const scratchUrl = urlOf(source.url, scratch.name);
    await prepare?.(scratchUrl);
    const pgRestore = await findPgTool('pg_restore', Number.parseInt(manifest.pgDumpVersion, 10));
    const into = pgRestoreInto(withDatabase(server, scratch.name));
    const restoring = restoreBackupInParallel({
      entry,
      keyring: [key],
      name: 'pg_restore',
      pgRestore: pgRestore.path,
      args: ['--exit-on-error', ...into.args],
      env: into.env,
      classify: () => undefined,
      jobs: 2,
      database: scratch,
      tempDir,
      // On by default only with more than 2 cores (overlapDecodePays): asked for here.
      overlapDecode: true,
    });
    await check(restoring, scratchUrl, manifest);
    expect(await fs.readdir(tempDir)).toEqual([]);
  } finally {
    await scratch.drop();
  }
}

describe('restoreBackupInParallel', () => {
  it('restores while decoding by default only with cores to spare', () => {
    expect(overlapDecodePays(2)).toBe(false);
    expect(overlapDecodePays(3)).toBe(true);
  });

  it.each([
    ['zstd', 'zstd', false],
    ['zstd, encrypted', 'zstd', true],
  ] as const)(
    '%s: loads the first tables while decoding, the rest with --jobs, post-data after all the data',
    async (_label, compression, encrypted) => {
      await restoreInto(compression, encrypted, async (restoring, scratchUrl, manifest) => {
        const { counts, streamed } = await restoring;
        // The archive's first data entry came from the stream, the others from the file.
        expect(streamed.map((table) => `${table.schema}.${table.name}`)).toContain('public.animals');
        expect(streamed.length).toBeLessThan(manifest.tables.length);
        expect(compareRowCounts(manifest, counts)).toEqual([]);
        expect(counts.size).toBe(manifest.tables.length);
        expect(await databaseDigest(scratchUrl)).toEqual(sourceDigest);
        expect(await postDataObjects(scratchUrl)).toEqual(sourceSchema);
        const marked = await withClient(scratchUrl, (client) =>
          client.query(
            `SELECT (SELECT count(*) FROM sales.customers WHERE name = 'marked by the trigger')
                  + (SELECT count(*) FROM ONLY public.animals WHERE name = 'marked by the trigger') AS n`,
          ),
        );
        expect(Number(marked.rows[0].n)).toBe(0);
      });
    },
  );

  /** Restores into a scratch database prepared by `sql`, expecting pg_restore's own error. */
  async function expectRestoreFailure(sql: string, error: RegExp): Promise<void> {
    await restoreInto(
      'zstd',
      false,
      async (restoring) => {
        await expect(restoring).rejects.toMatchObject({
          code: 'RESTORE_FAILED',
          message: expect.stringMatching(error),
        });
      },
      (scratchUrl) => withClient(scratchUrl, (client) => client.query(sql)),
    );
  }

  it('fails with pg_restore’s own error when the streamed load of the first tables fails', async () => {
    // Once the schema creates public.animals (loaded from the stream), no row may go in.
    await expectRestoreFailure(
      `CREATE FUNCTION public.block_animals() RETURNS event_trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands()
                     WHERE command_tag = 'CREATE TABLE' AND object_identity = 'public.animals') THEN
           ALTER TABLE public.animals ADD CONSTRAINT no_rows CHECK (false) NOT VALID;
         END IF;
       END $$;
       CREATE EVENT TRIGGER block_animals ON ddl_command_end EXECUTE FUNCTION public.block_animals();`,
      /violates check constraint "no_rows"/,
    );
  });

  it('fails with pg_restore’s own error when a phase fails, stops the others and removes the file', async () => {
    // The schema (pre-data) then fails on its first table.
    await expectRestoreFailure('CREATE TABLE public.animals (id int)', /relation "animals" already exists/);
  });
});
