import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, listBackups } from '@pgbackup/backup-core';
import { jobNames } from '@pgbackup/queue';
import { PostgresServer } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RestoreGlobalsDocument } from './commands/restore-globals.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// A server target's globals and a discovered database, restored into a second, empty private
// cluster: `restore-globals --dry-run`, then `restore --with-globals`: same roles, memberships,
// settings and owners, same data.

let source: PostgresServer;
let spare: PostgresServer;
let fixture: WorkerFixture;

async function query(server: PostgresServer, database: string, text: string) {
  const url = new URL(server.url());
  const client = await connect({ host: url.hostname, port: Number(url.port), user: 'postgres', database });
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

const rolesQuery = `
  SELECT rolname, rolcanlogin, rolcreatedb, array_to_string(ARRAY(SELECT unnest(rolconfig) ORDER BY 1), ',') AS config
  FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> 'postgres' ORDER BY rolname`;
const membersQuery = `
  SELECT r.rolname AS role, m.rolname AS member, am.admin_option
  FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
  WHERE r.rolname !~ '^pg_' ORDER BY 1, 2`;
const ownersQuery = `
  SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, coalesce(array_to_string(c.relacl, ','), '') AS acl
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'shop' ORDER BY 1`;

beforeAll(async () => {
  [source, spare] = await Promise.all([PostgresServer.start(), PostgresServer.start()]);
  await query(
    source,
    'postgres',
    `CREATE ROLE readers NOLOGIN;
     CREATE ROLE shop_owner LOGIN CREATEDB;
     CREATE ROLE clerk LOGIN IN ROLE readers;
     ALTER ROLE clerk SET statement_timeout = '7s';
     GRANT shop_owner TO clerk WITH ADMIN OPTION;`,
  );
  await query(source, 'postgres', 'CREATE DATABASE shopdb OWNER shop_owner');
  await query(
    source,
    'shopdb',
    `CREATE SCHEMA shop AUTHORIZATION shop_owner;
     CREATE TABLE shop.orders (id int PRIMARY KEY, item text);
     INSERT INTO shop.orders SELECT g, 'item ' || g FROM generate_series(1, 300) g;
     CREATE TABLE shop.items (id int PRIMARY KEY);
     INSERT INTO shop.items SELECT generate_series(1, 40);
     ALTER TABLE shop.orders OWNER TO shop_owner;
     GRANT SELECT ON shop.orders TO readers;`,
  );
  const configFile = path.join(process.env.TMPDIR ?? '/tmp', `globals-${process.pid}-${Date.now()}.yaml`);
  await writeFile(
    configFile,
    `targets:
  - name: srv
    url: ${source.url('postgres')}
    databases: all
  - name: spare
    url: ${spare.url('postgres')}
`,
  );
  fixture = await workerFixture({ BACKUP_CONFIG: configFile, BACKUP_SCHEDULE: '0 0 1 1 *' });
}, 120_000);

afterAll(async () => {
  await fixture?.cleanup();
  await Promise.all([source?.destroy(), spare?.destroy()]);
});

it('restore-globals --dry-run changes nothing; restore --with-globals gives the same roles, owners and data', async () => {
  await fixture.start();
  const job = await fixture.queue.add(jobNames.discover, { server: 'srv', origin: 'manual' });
  expect(await fixture.finished(job, 120_000)).toBe('completed');
  for (const target of ['srv.globals', 'srv.shopdb'])
    await expect.poll(() => fixture.verifiedBackups(target), { timeout: 120_000 }).toHaveLength(1);
  const [globalsId] = await fixture.verifiedBackups('srv.globals');
  const [shopId] = await fixture.verifiedBackups('srv.shopdb');
  const spareUrl = spare.url('postgres');

  const dry = await runCli(fixture.env, [
    'restore-globals',
    globalsId!,
    '--to',
    spareUrl,
    '--dry-run',
    '--json',
  ]);
  expect(dry.code, dry.stderr).toBe(0);
  const planned = jsonOf<RestoreGlobalsDocument>(dry);
  expect(planned).toMatchObject({ server: 'spare', dryRun: true, failed: 0 });
  expect(
    planned.steps.filter((s) => s.action === 'would-apply' && s.kind === 'create-role').map((s) => s.name),
  ).toEqual(expect.arrayContaining(['readers', 'shop_owner', 'clerk']));
  expect(await query(spare, 'postgres', rolesQuery)).toEqual([]);

  // A globals backup is not a database: `restore` says what to use instead.
  const wrong = await runCli(fixture.env, ['restore', globalsId!, '--to', 'x', '--direct']);
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toContain('backupctl restore-globals');

  const restored = await runCli(fixture.env, [
    'restore',
    shopId!,
    '--to',
    `${spareUrl.replace(/\/postgres$/, '')}/shopdb`,
    '--with-globals',
    '--direct',
  ]);
  expect(restored.code, restored.stderr).toBe(0);
  expect(restored.stdout).toMatch(/APPLIED +CREATE ROLE clerk;/);
  expect(await query(spare, 'postgres', rolesQuery)).toEqual(await query(source, 'postgres', rolesQuery));
  expect(await query(spare, 'postgres', membersQuery)).toEqual(await query(source, 'postgres', membersQuery));
  expect(await query(spare, 'shopdb', ownersQuery)).toEqual(await query(source, 'shopdb', ownersQuery));
  for (const table of ['shop.orders', 'shop.items'])
    expect(
      await query(
        spare,
        'shopdb',
        `SELECT count(*)::int AS n, md5(string_agg(t::text, ',' ORDER BY t::text)) AS h FROM ${table} t`,
      ),
    ).toEqual(
      await query(
        source,
        'shopdb',
        `SELECT count(*)::int AS n, md5(string_agg(t::text, ',' ORDER BY t::text)) AS h FROM ${table} t`,
      ),
    );

  // Again: every role now exists and is skipped, nothing fails.
  const again = await runCli(fixture.env, ['restore-globals', globalsId!, '--to', spareUrl, '--json']);
  expect(again.code, again.stderr).toBe(0);
  const second = jsonOf<RestoreGlobalsDocument>(again);
  expect(second.steps.filter((s) => s.kind === 'create-role').every((s) => s.action === 'skipped')).toBe(
    true,
  );
  expect((await listBackups(fixture.config.backupDir, { target: 'srv.globals' })).entries).toHaveLength(1);
}, 400_000);
