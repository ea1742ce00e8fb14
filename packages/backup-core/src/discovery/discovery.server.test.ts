import { PostgresServer, quoteIdent } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDump } from '../dump/dump.js';
import { targetNamePattern } from '../ids.js';
import { findBackup } from '../storage/catalog.js';
import { connectionOf, type Workspace, workspace } from '../test-support/fixtures.js';
import { withClient } from '../test-support/sample-database.js';
import { discoverDatabases } from './list-databases.js';

// A private server, so "exactly the expected set" is not disturbed by other tests' databases.
let server: PostgresServer;
let ws: Workspace;
/** Spaces, both quote kinds, a backslash, non-ASCII letters and an emoji. */
const oddName = `my "odd" db's \\ café 日本 😀`;

beforeAll(async () => {
  server = await PostgresServer.start();
  ws = await workspace();
  await withClient(server.url('postgres'), async (client) => {
    for (const name of ['app', 'app_eu', 'reporting', oddName, 'locked'])
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    await client.query('ALTER DATABASE locked ALLOW_CONNECTIONS false');
  });
  await withClient(server.url(oddName), (client) =>
    client.query('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 50)'),
  );
}, 120_000);

afterAll(async () => {
  await ws?.remove();
  await server?.destroy();
});

describe('discoverDatabases on a real server', () => {
  it('finds exactly the databases to back up', async () => {
    const found = await discoverDatabases('prod', connectionOf(server.url('postgres')), {
      databases: 'all',
      exclude: [],
    });
    expect(found.databases.map((d) => d.database).sort()).toEqual(
      ['app', 'app_eu', oddName, 'reporting'].sort(),
    );
    const skipped = Object.fromEntries(found.skipped.map((skip) => [skip.database, skip.reason]));
    expect(skipped).toEqual({
      template0: 'template',
      template1: 'template',
      postgres: 'maintenance',
      locked: 'no-connections',
    });
    for (const { target } of found.databases) expect(target).toMatch(targetNamePattern);
  });

  it('patterns and exclusions apply to the real names', async () => {
    const found = await discoverDatabases('prod', connectionOf(server.url('postgres')), {
      databases: ['app*', 'my "odd"*'],
      exclude: ['app_eu'],
    });
    expect(found.databases.map((d) => d.database)).toEqual(['app', oddName]);
  });

  it('a database with an odd name is dumped under its safe target name, the manifest keeping the real one', async () => {
    const found = await discoverDatabases('prod', connectionOf(server.url('postgres')), {
      databases: [oddName],
      exclude: [],
    });
    const [odd] = found.databases;
    expect(odd?.database).toBe(oddName);
    const { manifest } = await runDump({
      target: {
        name: odd!.target,
        connection: { ...connectionOf(server.url('postgres')), database: oddName },
        compression: 'zstd',
        suspiciousRatio: 0,
      },
      backupDir: ws.backupDir,
      logDir: ws.logDir,
    });
    expect(manifest.target).toBe(odd!.target);
    expect(manifest.database).toBe(oddName);
    expect(manifest.tables.map((table) => table.rows)).toEqual([50]);
    expect((await findBackup(ws.backupDir, manifest.id)).manifest.database).toBe(oddName);
  });

  it('a refused connection is an error, never an empty server', async () => {
    await expect(
      discoverDatabases(
        'prod',
        { ...connectionOf(server.url('postgres')), database: 'no_such_db' },
        {
          databases: 'all',
          exclude: [],
        },
      ),
    ).rejects.toMatchObject({ code: 'PG_DATABASE_MISSING' });
  });
});
