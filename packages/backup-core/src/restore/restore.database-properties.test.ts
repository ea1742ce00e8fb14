import { uniqueName, withDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDump } from '../dump/dump.js';
import { quoteIdent } from '../postgres/scratch.js';
import {
  connectionOf,
  createTestDatabase,
  dumpTarget,
  type Workspace,
  workspace,
} from '../test-support/fixtures.js';
import { withClient } from '../test-support/sample-database.js';
import { verifyBackup } from '../verify/verify.js';
import { databaseProperties, readDatabasePropertyState } from './database-properties.js';
import { restoreBackup } from './restore.js';

// The database's own owner, settings, comment and privileges live in the archive's DATABASE
// entries, which pg_restore applies only with --create: a restore under another name used to
// drop them.

let ws: Workspace;
let sourceUrl: string;
let sourceName: string;
let backupId: string;
const owner = uniqueName('props_owner');
const reader = uniqueName('props_reader');

beforeAll(async () => {
  const source = await createTestDatabase('props');
  sourceUrl = source.url;
  sourceName = source.name;
  const db = quoteIdent(source.name);
  await source.query('CREATE TABLE public.t AS SELECT g AS id FROM generate_series(1, 30) g');
  await withClient(withDatabase(source.url, 'postgres'), (client) =>
    client.query(`
      CREATE ROLE ${owner} NOLOGIN;
      CREATE ROLE ${reader} LOGIN;
      ALTER DATABASE ${db} OWNER TO ${owner};
      ALTER DATABASE ${db} SET work_mem = '8MB';
      ALTER DATABASE ${db} SET search_path = 'app', 'public';
      ALTER ROLE ${reader} IN DATABASE ${db} SET statement_timeout = '3s';
      COMMENT ON DATABASE ${db} IS 'orders; kept ''for ever''';
      REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC;
      GRANT CONNECT ON DATABASE ${db} TO ${reader};
    `),
  );
  ws = await workspace();
  backupId = (await runDump({ target: dumpTarget(source), backupDir: ws.backupDir, logDir: ws.logDir }))
    .manifest.id;
}, 120_000);

afterAll(async () => {
  await ws?.remove();
});

const server = () => connectionOf(withDatabase(sourceUrl, 'postgres'));

describe('restore carries the database properties over to the new name', () => {
  it('owner, settings (database and role-in-database), comment and the database-level ACL', async () => {
    const to = uniqueName('props_copy');
    await restoreBackup({
      backupDir: ws.backupDir,
      logDir: ws.logDir,
      id: backupId,
      to: { ...server(), database: to },
    });
    const restored = await readDatabasePropertyState(server(), to);
    const original = await readDatabasePropertyState(server(), sourceName);
    expect(restored).toEqual(original);
    expect(restored).toMatchObject({
      owner,
      comment: "orders; kept 'for ever'",
      settings: ['search_path=app, public', 'work_mem=8MB'],
      roleSettings: [`${reader}: statement_timeout=3s`],
    });
    expect(restored.acl).toContain(`${reader}=c/${owner}`);
  });

  it('with noOwner: settings and comment, but no owner and no grants', async () => {
    const to = uniqueName('props_noowner');
    await restoreBackup({
      backupDir: ws.backupDir,
      logDir: ws.logDir,
      id: backupId,
      to: { ...server(), database: to },
      noOwner: true,
    });
    const restored = await readDatabasePropertyState(server(), to);
    expect(restored.owner).toBe(server().user);
    expect(restored.acl).toBeNull();
    expect(restored.settings).toEqual(['search_path=app, public', 'work_mem=8MB']);
    expect(restored.comment).toBe("orders; kept 'for ever'");
  });

  it('verify --level restore applies and reads them back', async () => {
    const result = await verifyBackup({
      backupDir: ws.backupDir,
      id: backupId,
      level: 'restore',
      scratchServer: server(),
    });
    expect(result.verification).toMatchObject({ level: 'restore', ok: true });
  });
});

describe('databaseProperties', () => {
  it('keeps the property statements with a placeholder for the name, and nothing else', () => {
    const sql = [
      '--',
      'CREATE DATABASE "old db" WITH TEMPLATE = template0 ENCODING = \'UTF8\';',
      'ALTER DATABASE "old db" OWNER TO app;',
      '\\connect -reuse-previous=on "dbname=\'old db\'"',
      'SET statement_timeout = 0;',
      "ALTER DATABASE \"old db\" SET search_path TO 'a', 'b';",
      'ALTER ROLE reader IN DATABASE "old db" SET work_mem TO \'4MB\';',
      'COMMENT ON DATABASE "old db" IS \'two\nlines\';',
      'REVOKE CONNECT,TEMPORARY ON DATABASE "old db" FROM PUBLIC;',
      'GRANT CONNECT ON DATABASE "old db" TO reader;',
    ].join('\n');
    expect(databaseProperties(sql)).toEqual([
      { kind: 'owner', template: 'ALTER DATABASE %DATABASE% OWNER TO app;' },
      { kind: 'setting', template: "ALTER DATABASE %DATABASE% SET search_path TO 'a', 'b';" },
      { kind: 'setting', template: "ALTER ROLE reader IN DATABASE %DATABASE% SET work_mem TO '4MB';" },
      { kind: 'comment', template: "COMMENT ON DATABASE %DATABASE% IS 'two\nlines';" },
      { kind: 'privileges', template: 'REVOKE CONNECT,TEMPORARY ON DATABASE %DATABASE% FROM PUBLIC;' },
      { kind: 'privileges', template: 'GRANT CONNECT ON DATABASE %DATABASE% TO reader;' },
    ]);
  });
});
