import { uniqueName } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgConnection } from '../postgres/connection.js';
import { backupWithDatabaseProperties } from '../test-support/database-properties.js';
import type { Workspace } from '../test-support/fixtures.js';
import { verifyBackup } from '../verify/verify.js';
import { databaseProperties, readDatabasePropertyState } from './database-properties.js';
import { restoreBackup } from './restore.js';

// The database's own owner, settings, comment and privileges live in the archive's DATABASE
// entries, which pg_restore applies only with --create: a restore under another name used to
// drop them.

let ws: Workspace;
let sourceName: string;
let backupId: string;
let server: () => PgConnection;
const owner = uniqueName('props_owner');
const reader = uniqueName('props_reader');

beforeAll(async () => {
  ({ ws, sourceName, backupId, server } = await backupWithDatabaseProperties({
    label: 'props',
    owner,
    reader,
    rows: 30,
    revokeFromPublic: 'CONNECT, TEMPORARY',
  }));
}, 120_000);

afterAll(async () => {
  await ws?.remove();
});

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
