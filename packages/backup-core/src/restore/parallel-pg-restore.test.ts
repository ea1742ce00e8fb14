import { randomBytes } from 'node:crypto';
import { type TestDatabase, withDatabase as urlOf } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDump } from '../dump/dump.js';
import type { TableStat } from '../manifest.js';
import { pgRestoreInto, withDatabase } from '../postgres/connection.js';
import { createScratchDatabase, type ScratchDatabase } from '../postgres/scratch.js';
import { findPgTool } from '../postgres/tools.js';
import {
  connectionOf,
  createTestDatabase,
  dumpTarget,
  type Workspace,
  workspace,
} from '../test-support/fixtures.js';
import { databaseDigest, withClient } from '../test-support/sample-database.js';
import { restoreInParallelCounting } from './parallel-pg-restore.js';

let ws: Workspace;
let source: TestDatabase;

beforeAll(async () => {
  source = await createTestDatabase('parcount');
  // `items` in two schemas: pg_restore names a data item by the table's name alone.
  await source.query(`
    CREATE TABLE public.items (id int PRIMARY KEY, label text NOT NULL);
    INSERT INTO public.items SELECT g, 'item ' || g FROM generate_series(1, 1500) g;
    CREATE SCHEMA ledger;
    CREATE TABLE ledger.items (id int, qty int);
    INSERT INTO ledger.items SELECT g, g FROM generate_series(1, 700) g;
    CREATE TABLE public.moves (item int REFERENCES public.items(id), qty int NOT NULL);
    INSERT INTO public.moves SELECT 1 + g % 1500, g FROM generate_series(1, 2500) g;
  `);
  ws = await workspace();
});

afterAll(async () => {
  await ws?.remove();
});

/** The scratch database, with every countRows call it answers noted. */
function observed(database: ScratchDatabase, calls: string[][]): ScratchDatabase {
  return {
    ...database,
    countRows(tables: readonly TableStat[]) {
      calls.push(tables.map((table) => `${table.schema}.${table.name}`));
      return database.countRows(tables);
    },
  };
}

/**
 * An uncompressed backup of the source (the file itself is a seekable archive), a scratch
 * database, and `restoreInParallelCounting` with 2 jobs into it, its countRows calls noted.
 * `prepare` runs in the scratch database first; the scratch database is dropped afterwards.
 */
async function restoreCounting(
  classify: () => 'RESTORE_FAILED' | undefined,
  check: (
    restoring: ReturnType<typeof restoreInParallelCounting>,
    calls: string[][],
    scratch: ScratchDatabase,
  ) => Promise<void>,
  prepare?: (scratchUrl: string) => Promise<unknown>,
): Promise<void> {
  const { manifest, filePath } = await runDump({
    target: dumpTarget(source, 'none'),
    backupDir: ws.backupDir,
    logDir: ws.logDir,
  });
  const server = withDatabase(connectionOf(source.url), 'postgres');
  const scratch = await createScratchDatabase(server, `pgbackup_restore_${randomBytes(5).toString('hex')}`);
  try {
    await prepare?.(urlOf(source.url, scratch.name));
    const calls: string[][] = [];
    const pgRestore = await findPgTool('pg_restore', Number.parseInt(manifest.pgDumpVersion, 10));
    const into = pgRestoreInto(withDatabase(server, scratch.name));
    const restoring = restoreInParallelCounting({
      name: 'pg_restore',
      program: pgRestore.path,
      args: ['--exit-on-error', ...into.args],
      env: into.env,
      jobs: 2,
      archive: filePath,
      classify,
      database: observed(scratch, calls),
      tables: manifest.tables,
    });
    await check(restoring, calls, scratch);
  } finally {
    await scratch.drop();
  }
}

describe('restoreInParallelCounting', () => {
  it('restores with --jobs 2 and counts each uniquely named table as its data comes in, the others after', async () => {
    await restoreCounting(
      () => undefined,
      async (restoring, calls, scratch) => {
        const counts = await restoring;
        expect(Object.fromEntries(counts)).toEqual({
          'public.items': 1500,
          'ledger.items': 700,
          'public.moves': 2500,
        });
        // One table per call while pg_restore ran; the ambiguous `items` pair together at the end.
        expect(calls.slice(0, 1)).toEqual([['public.moves']]);
        expect(calls.at(-1)?.sort()).toEqual(['ledger.items', 'public.items']);
        expect(await databaseDigest(urlOf(source.url, scratch.name))).toEqual(
          await databaseDigest(source.url),
        );
      },
    );
  });

  it('rejects with pg_restore’s error (in its own words, not the --verbose lines) and counts nothing after it', async () => {
    await restoreCounting(
      () => 'RESTORE_FAILED',
      async (restoring, calls) => {
        const error = await restoring.catch((e: unknown) => e as { code?: string; message: string });
        expect(error).toMatchObject({ code: 'RESTORE_FAILED' });
        expect((error as Error).message).toMatch(/already exists/);
        expect((error as Error).message).toMatch(/from TOC entry \d+; .*TABLE moves/);
        expect((error as Error).message).not.toMatch(/pg_restore: (connecting|creating|processing)/);
        expect(calls).toEqual([]);
      },
      // A table already there: --exit-on-error stops at its CREATE TABLE.
      (scratchUrl) => withClient(scratchUrl, (client) => client.query('CREATE TABLE public.moves (x int)')),
    );
  });
});
