import { type ConnectionRecorder, connectionRecorder, type TestDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDump } from '../dump/dump.js';
import { isBackupError } from '../errors.js';
import {
  connectionOf,
  createTestDatabase,
  dumpTarget,
  type Workspace,
  workspace,
} from '../test-support/fixtures.js';
import { withClient } from '../test-support/sample-database.js';
import { restoreBackup } from './restore.js';

// libpq reads a database name holding `=` or starting with postgres:// as connection settings.
// Every name below would, if handed to pg_restore as --dbname, send it (with PGPASSWORD in its
// environment) to the recorder instead of the test server.
let ws: Workspace;
let source: TestDatabase;
let recorder: ConnectionRecorder;
let backupId: string;

beforeAll(async () => {
  recorder = await connectionRecorder();
  source = await createTestDatabase('namesrc');
  await source.query('CREATE TABLE public.t AS SELECT g AS id FROM generate_series(1, 50) g');
  ws = await workspace();
  backupId = (await runDump({ target: dumpTarget(source), backupDir: ws.backupDir, logDir: ws.logDir }))
    .manifest.id;
});

afterAll(async () => {
  await recorder?.close();
  await ws?.remove();
});

function hostileNames(port: number): string[] {
  return [
    `host=127.0.0.1 port=${port} dbname=x`,
    `port=${port}`,
    `postgres://127.0.0.1:${port}/x`,
    `postgresql://127.0.0.1:${port}/x`,
    'two words',
    "quo'te",
    'dou"ble',
    'back\\slash',
    'ünïcödé',
    'semi;colon',
    '-leading-dash',
    '1starts_with_digit',
    'x'.repeat(64),
    '',
  ];
}

async function databasesNamedLike(names: string[]): Promise<string[]> {
  return withClient(source.url, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname = ANY($1) OR datname LIKE $2',
      [names, '%127.0.0.1%'],
    );
    return rows.map((row) => row.datname);
  });
}

describe('restoreBackup and database names that libpq could read as connection settings', () => {
  it('refuses every one of them with RESTORE_DATABASE_INVALID, and nothing connects elsewhere', async () => {
    const names = hostileNames(recorder.port);
    const outcomes: string[] = [];
    for (const database of names) {
      const outcome = await restoreBackup({
        backupDir: ws.backupDir,
        logDir: ws.logDir,
        id: backupId,
        to: { ...connectionOf(source.url), database },
        force: true,
      }).then(
        () => 'restored',
        (error: unknown) =>
          isBackupError(error, 'RESTORE_DATABASE_INVALID') &&
          error.message.includes(JSON.stringify(database)) &&
          error.message.includes('a plain database name')
            ? 'refused'
            : String(error),
      );
      outcomes.push(`${JSON.stringify(database)}: ${outcome}`);
    }
    // First what matters most: nothing reached the recorder.
    expect(recorder.connections()).toBe(0);
    expect(outcomes).toEqual(names.map((name) => `${JSON.stringify(name)}: refused`));
    expect(await databasesNamedLike(names)).toEqual([]);
  });

  it('still restores into a plain name, upper case and $ included', async () => {
    const database = `Plain_${source.name}$x`.slice(0, 63);
    const result = await restoreBackup({
      backupDir: ws.backupDir,
      logDir: ws.logDir,
      id: backupId,
      to: { ...connectionOf(source.url), database },
    });
    expect(result).toMatchObject({ database, replacedExisting: false });
    expect(await databasesNamedLike([database])).toEqual([database]);
    expect(recorder.connections()).toBe(0);
  });
});
