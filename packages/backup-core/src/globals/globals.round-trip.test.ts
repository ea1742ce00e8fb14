import fs from 'node:fs/promises';
import { PostgresServer } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorKeyFromBytes } from '../crypto/index.js';
import { findBackup } from '../storage/catalog.js';
import { connectionOf, type Workspace, workspace } from '../test-support/fixtures.js';
import { withClient } from '../test-support/sample-database.js';
import { verifyBackup } from '../verify/verify.js';
import { dumpGlobals } from './dump-globals.js';
import { parseGlobals } from './globals-sql.js';
import { restoreGlobals } from './restore-globals.js';

// Roles with memberships, per-role settings, a comment over two lines and an odd name, dumped
// from one private cluster and replayed into a second, empty one.

const key = operatorKeyFromBytes(Buffer.alloc(32, 9));
let source: PostgresServer;
let empty: PostgresServer;
let ws: Workspace;

const rolesQuery = `
  SELECT rolname, rolcanlogin, rolcreatedb, rolcreaterole, rolinherit, rolconnlimit,
         array_to_string(ARRAY(SELECT unnest(rolconfig) ORDER BY 1), ',') AS config,
         coalesce(shobj_description(oid, 'pg_authid'), '') AS comment
  FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> 'postgres' ORDER BY rolname`;
const membersQuery = `
  SELECT r.rolname AS role, m.rolname AS member, am.admin_option
  FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
  WHERE r.rolname !~ '^pg_' ORDER BY 1, 2`;
const passwordQuery = `SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('app', 'owner') ORDER BY 1`;

async function rows(server: PostgresServer, sql: string) {
  return withClient(server.url('postgres'), async (client) => (await client.query(sql)).rows);
}

beforeAll(async () => {
  [source, empty] = await Promise.all([PostgresServer.start(), PostgresServer.start()]);
  ws = await workspace();
  await withClient(source.url('postgres'), (client) =>
    client.query(`
      CREATE ROLE readers NOLOGIN;
      CREATE ROLE owner LOGIN CREATEDB PASSWORD 'owner-secret' CONNECTION LIMIT 5;
      CREATE ROLE app LOGIN PASSWORD 'app-secret' IN ROLE readers;
      CREATE ROLE "odd ""role"" é" LOGIN;
      GRANT readers TO "odd ""role"" é" WITH ADMIN OPTION;
      GRANT owner TO app;
      ALTER ROLE app SET statement_timeout = '5s';
      ALTER ROLE app SET search_path = 'app', 'public';
      COMMENT ON ROLE app IS 'the application''s role;
second line';
      CREATE ROLE limited LOGIN CREATEROLE;
    `),
  );
}, 120_000);

afterAll(async () => {
  await ws?.remove();
  await Promise.all([source?.destroy(), empty?.destroy()]);
});

describe('globals: pg_dumpall --globals-only as a backup of its own', () => {
  let id: string;

  it('is dumped encrypted and checksummed as <server>.globals, and verifies', async () => {
    const dumped = await dumpGlobals({
      server: 'prod',
      connection: connectionOf(source.url('postgres')),
      backupDir: ws.backupDir,
      encryptionKey: key,
    });
    id = dumped.manifest.id;
    expect(dumped.manifest).toMatchObject({ target: 'prod.globals', format: 'globals', compression: 'none' });
    expect(dumped.manifest.encryption?.keyId).toBe(key.id);
    expect(dumped.manifest.noRolePasswords).toBeUndefined();
    // Encrypted on disk: no role name in clear.
    expect((await fs.readFile(dumped.filePath)).includes(Buffer.from('readers'))).toBe(false);

    const read = await verifyBackup({ backupDir: ws.backupDir, id, level: 'read', keyring: [key] });
    expect(read.verification).toMatchObject({ level: 'read', ok: true });
    // The restore level replays it into a throwaway cluster (verify.globals-replay.test.ts).
    const restoreLevel = await verifyBackup({
      backupDir: ws.backupDir,
      id,
      level: 'restore',
      keyring: [key],
    });
    expect(restoreLevel.verification).toMatchObject({ level: 'restore', ok: true });
  });

  it('a changed byte is a checksum mismatch, never a replay', async () => {
    const entry = await findBackup(ws.backupDir, id);
    const copy = `${entry.filePath}.orig`;
    await fs.copyFile(entry.filePath, copy);
    try {
      const bytes = await fs.readFile(entry.filePath);
      bytes[bytes.length - 10]! ^= 1;
      await fs.writeFile(entry.filePath, bytes);
      await expect(
        restoreGlobals({
          backupDir: ws.backupDir,
          id,
          keyring: [key],
          server: connectionOf(empty.url('postgres')),
        }),
      ).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
      expect(await rows(empty, rolesQuery)).toEqual([]);
    } finally {
      await fs.rename(copy, entry.filePath);
    }
  });

  it('--dry-run changes nothing; the replay gives the same roles, memberships, settings and passwords', async () => {
    const server = connectionOf(empty.url('postgres'));
    const dry = await restoreGlobals({ backupDir: ws.backupDir, id, keyring: [key], server, dryRun: true });
    expect(dry.steps.filter((step) => step.action === 'would-apply').map((step) => step.name)).toContain(
      'app',
    );
    expect(await rows(empty, rolesQuery)).toEqual([]);
    // Passwords never appear in what is printed.
    expect(JSON.stringify(dry.steps)).not.toMatch(/SCRAM-SHA-256\$/);

    const done = await restoreGlobals({ backupDir: ws.backupDir, id, keyring: [key], server });
    expect(done.failed).toBe(0);
    expect(done.steps.find((step) => step.kind === 'create-role' && step.name === 'postgres')).toMatchObject({
      action: 'skipped',
    });
    expect(await rows(empty, rolesQuery)).toEqual(await rows(source, rolesQuery));
    expect(await rows(empty, membersQuery)).toEqual(await rows(source, membersQuery));
    expect(await rows(empty, passwordQuery)).toEqual(await rows(source, passwordQuery));
  });

  it('a second replay skips every existing role; --force applies their settings again', async () => {
    const server = connectionOf(empty.url('postgres'));
    await withClient(empty.url('postgres'), (client) =>
      client.query('ALTER ROLE app RESET statement_timeout'),
    );
    const again = await restoreGlobals({ backupDir: ws.backupDir, id, keyring: [key], server });
    expect(again.failed).toBe(0);
    expect(
      again.steps.filter((step) => step.kind === 'create-role').every((step) => step.action === 'skipped'),
    ).toBe(true);
    expect(await rows(empty, rolesQuery)).not.toEqual(await rows(source, rolesQuery));
    const forced = await restoreGlobals({ backupDir: ws.backupDir, id, keyring: [key], server, force: true });
    expect(forced.failed).toBe(0);
    expect(await rows(empty, rolesQuery)).toEqual(await rows(source, rolesQuery));
  });

  it('falls back to --no-role-passwords, with a warning, when pg_authid is denied', async () => {
    const warnings: string[] = [];
    const dumped = await dumpGlobals({
      server: 'managed',
      connection: { ...connectionOf(source.url('postgres')), user: 'limited' },
      backupDir: ws.backupDir,
      onWarning: (message) => warnings.push(message),
    });
    expect(warnings).toEqual([expect.stringContaining('--no-role-passwords')]);
    expect(dumped.manifest.noRolePasswords).toBe(true);
    const sql = await fs.readFile(dumped.filePath, 'utf8');
    expect(sql).not.toContain('PASSWORD');
    expect(parseGlobals(sql).some((s) => s.kind === 'create-role' && s.name === 'app')).toBe(true);
  });
});

describe('parseGlobals', () => {
  it('splits statements, keeps a literal with a line break whole, and skips comments and psql commands', () => {
    const statements = parseGlobals(
      `--\n-- PostgreSQL database cluster dump\n--\n\\restrict abc\nSET client_encoding = 'UTF8';\nCREATE ROLE "a ""b""";\nCOMMENT ON ROLE app IS 'x;\ny';\nGRANT readers TO app GRANTED BY postgres;\n\\unrestrict abc\n`,
    );
    expect(statements.map((s) => [s.kind, s.name ?? null])).toEqual([
      ['session', null],
      ['create-role', 'a "b"'],
      ['comment-role', 'app'],
      ['grant-membership', 'app'],
    ]);
  });
});
