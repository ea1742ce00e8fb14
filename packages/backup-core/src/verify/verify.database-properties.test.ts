import { PostgresServer, uniqueName, withDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgConnection } from '../postgres/connection.js';
import { quoteIdent } from '../postgres/scratch.js';
import { findPgTool } from '../postgres/tools.js';
import { readDatabaseProperties } from '../restore/database-properties.js';
import { expectedDatabaseProperties } from '../restore/expected-properties.js';
import { findBackup } from '../storage/catalog.js';
import { backupWithDatabaseProperties } from '../test-support/database-properties.js';
import { connectionOf, createTestDatabase, type Workspace } from '../test-support/fixtures.js';
import { withClient } from '../test-support/sample-database.js';
import { compareDatabaseProperties, readRestoredDatabaseProperties } from './database-property-check.js';
import { verifyBackup } from './verify.js';

// verify --level restore carries the archive's database properties over to the scratch database
// and compares owner, settings, comment and ACL with what the archive says.

let ws: Workspace;
let sourceUrl: string;
let sourceName: string;
let backupId: string;
let server: () => PgConnection;
let bare: PostgresServer;
const owner = uniqueName('vp_owner');
const reader = uniqueName('vp_reader');
const granter = uniqueName('vp_granter');

beforeAll(async () => {
  ({ ws, sourceUrl, sourceName, backupId, server } = await backupWithDatabaseProperties({
    label: 'vprops',
    owner,
    reader,
    rows: 10,
    revokeFromPublic: 'TEMPORARY',
    // A grant by a role that is not the owner: the ACL names the grantor.
    moreSql: (db) => `
      CREATE ROLE ${granter} NOLOGIN;
      GRANT CREATE ON DATABASE ${db} TO ${granter} WITH GRANT OPTION;
      SET ROLE ${granter};
      GRANT CREATE ON DATABASE ${db} TO ${reader};
      RESET ROLE;
    `,
  }));
  bare = await PostgresServer.start();
}, 180_000);

afterAll(async () => {
  await ws?.remove();
  await bare?.destroy();
});

describe('verify --level restore compares the database properties', () => {
  it('owner, settings, role settings, comment and ACL (a grant by a non-owner included) match', async () => {
    const result = await verifyBackup({
      backupDir: ws.backupDir,
      id: backupId,
      level: 'restore',
      scratchServer: server(),
    });
    expect(result.verification).toMatchObject({ level: 'restore', ok: true });
    expect(result.verification.notes).toBeUndefined();
  });

  it('what the archive says is what the source has', async () => {
    const entry = await findBackup(ws.backupDir, backupId);
    const pgRestore = await findPgTool('pg_restore', 15);
    const expected = expectedDatabaseProperties(await readDatabaseProperties(entry, [], pgRestore.path));
    const source = await readRestoredDatabaseProperties(server(), sourceName);
    expect(expected).toEqual({
      owner,
      settings: ['search_path=app, public', 'work_mem=8MB'],
      roleSettings: [`${reader}: statement_timeout=3s`],
      comment: "orders; kept 'for ever'",
      acl: source.aclItems,
    });
    expect(source.aclItems).toEqual(
      [
        `=c/${owner}`,
        `${owner}=CTc/${owner}`,
        `${reader}=c/${owner}`,
        `${granter}=C*/${owner}`,
        `${reader}=C/${granter}`,
      ].sort(),
    );
    expect(compareDatabaseProperties(expected, source).mismatches).toEqual([]);
  });

  it('a database that differs fails naming the property and both values', async () => {
    const entry = await findBackup(ws.backupDir, backupId);
    const pgRestore = await findPgTool('pg_restore', 15);
    const expected = expectedDatabaseProperties(await readDatabaseProperties(entry, [], pgRestore.path));
    const other = await createTestDatabase('vprops_other');
    await withClient(withDatabase(sourceUrl, 'postgres'), (client) =>
      client.query(`COMMENT ON DATABASE ${quoteIdent(other.name)} IS 'something else'`),
    );
    const { mismatches } = compareDatabaseProperties(
      expected,
      await readRestoredDatabaseProperties(server(), other.name),
    );
    expect(mismatches).toContain(
      `comment: the restored database has "something else", the archive says "orders; kept 'for ever'"`,
    );
    expect(mismatches.find((m) => m.startsWith('owner:'))).toMatch(
      /has "postgres", the archive says "vp_owner/,
    );
    expect(mismatches.find((m) => m.startsWith('settings:'))).toBe(
      'settings: the restored database has (none), the archive says ["search_path=app, public","work_mem=8MB"]',
    );
  });

  it('verifying as a role that may not set the owner: passes, saying what was not compared and why', async () => {
    const verifier = uniqueName('vp_verifier');
    await withClient(withDatabase(sourceUrl, 'postgres'), (client) =>
      client.query(`CREATE ROLE ${verifier} LOGIN CREATEDB`),
    );
    const result = await verifyBackup({
      backupDir: ws.backupDir,
      id: backupId,
      level: 'restore',
      scratchServer: { ...server(), user: verifier },
      record: false,
    });
    expect(result.verification).toMatchObject({ level: 'restore', ok: true });
    expect(result.propertiesCompared).toEqual(['settings', 'comment']);
    expect(result.verification.notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^owner not compared: .* \(the role verifying may not set it\)$/),
        expect.stringMatching(/^acl not compared: it depends on the owner/),
        expect.stringMatching(/^role settings not compared: permission denied/),
      ]),
    );
  });

  it('on a server without the roles: passes, saying what was not compared and why', async () => {
    const result = await verifyBackup({
      backupDir: ws.backupDir,
      id: backupId,
      level: 'restore',
      scratchServer: connectionOf(bare.url('postgres')),
      record: false,
    });
    expect(result.verification).toMatchObject({ level: 'restore', ok: true });
    expect(result.verification.notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^owner not compared: role "${owner}" does not exist`)),
        expect.stringMatching(/^acl not compared/),
        expect.stringMatching(new RegExp(`^role settings not compared: role "${reader}" does not exist`)),
      ]),
    );
  });
});
