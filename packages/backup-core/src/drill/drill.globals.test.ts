import fs from 'node:fs/promises';
import path from 'node:path';
import { PostgresServer, S3Server } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDump } from '../dump/dump.js';
import { dumpGlobals } from '../globals/dump-globals.js';
import { bucketGlobalsSource } from '../offsite/remote-drill.js';
import { RemoteStore } from '../offsite/remote-store.js';
import type { PgConnection } from '../postgres/connection.js';
import { findBackup } from '../storage/catalog.js';
import { tmpAreaOf } from '../storage/tmp-area.js';
import { connectionOf, type Workspace, workspace } from '../test-support/fixtures.js';
import { destinationOn } from '../test-support/offsite.js';
import { withClient } from '../test-support/sample-database.js';
import { verifyBackup } from '../verify/verify.js';
import { runDrill } from './drill.js';

// A drill of a discovered database restores it "with its server's globals": the newest verified
// `<server>.globals` is replayed on the drill server first, the backup restored with its owners,
// and the database's owner, settings, comment and ACL compared with the archive.

let source: PostgresServer;
let drillServer: PostgresServer;
let drillConnection: PgConnection;
let ws: Workspace;
let backupId: string;

beforeAll(async () => {
  [source, drillServer] = await Promise.all([PostgresServer.start(), PostgresServer.start()]);
  drillConnection = connectionOf(drillServer.url('postgres'));
  ws = await workspace();
  // A tablespace: its directory is the source's, and the drill server cannot have it.
  const location = path.join(source.dir, 'ts_hot');
  await fs.mkdir(location);
  const { uid, gid } = await fs.stat(source.dir);
  await fs.chown(location, uid, gid);
  await withClient(source.url('postgres'), async (client) => {
    await client.query(`CREATE TABLESPACE hot LOCATION '${location}'`);
    await client.query(`
      CREATE ROLE shop_owner NOLOGIN;
      CREATE ROLE shop_reader LOGIN IN ROLE shop_owner;
    `);
    await client.query('CREATE DATABASE shop OWNER shop_owner');
    await client.query(`
      ALTER DATABASE shop SET work_mem = '8MB';
      COMMENT ON DATABASE shop IS 'the shop';
      REVOKE TEMPORARY ON DATABASE shop FROM PUBLIC;
      GRANT CONNECT ON DATABASE shop TO shop_reader;
    `);
  });
  await withClient(source.url('shop'), (client) =>
    client.query(`
      CREATE TABLE public.orders AS SELECT g AS id FROM generate_series(1, 50) g;
      ALTER TABLE public.orders OWNER TO shop_owner;
      CREATE TABLE public.hot_rows TABLESPACE hot AS SELECT generate_series(1, 5) AS id;
      GRANT SELECT ON public.orders TO shop_reader;
    `),
  );
  const dumped = await runDump({
    target: {
      name: 'prod.shop',
      connection: connectionOf(source.url('shop')),
      compression: 'zstd',
      suspiciousRatio: 0.5,
    },
    backupDir: ws.backupDir,
    logDir: ws.logDir,
  });
  backupId = dumped.manifest.id;
  await verifyBackup({ backupDir: ws.backupDir, id: backupId, level: 'read' });
}, 180_000);

afterAll(async () => {
  await withClient(source.url('shop'), (client) =>
    client.query('DROP TABLE IF EXISTS public.hot_rows'),
  ).catch(() => undefined);
  await withClient(source.url('postgres'), (client) => client.query('DROP TABLESPACE IF EXISTS hot')).catch(
    () => undefined,
  );
  await ws?.remove();
  await Promise.all([source?.destroy(), drillServer?.destroy()]);
});

const drillRoles = () =>
  withClient(drillServer.url('postgres'), async (client) =>
    (
      await client.query<{ rolname: string }>(
        `SELECT rolname FROM pg_roles WHERE rolname LIKE 'shop\\_%' ORDER BY 1`,
      )
    ).rows.map((row) => row.rolname),
  );

describe('runDrill with the server globals', () => {
  it('without a globals backup: restores without owners and records that no globals were applied', async () => {
    const result = await runDrill({
      backupDir: ws.backupDir,
      target: 'prod.shop',
      server: drillConnection,
      globalsServer: 'prod',
    });
    expect(result.drill.ok).toBe(true);
    // The harness's default server: the level a restore into a server with replicas runs at.
    expect(result.drill.walLevel).toBe('replica');
    expect(result.drill.globals).toEqual({
      applied: false,
      note: 'no verified globals backup of server prod (prod.globals)',
    });
    expect(result.drill.properties?.compared).toEqual(expect.arrayContaining(['settings', 'comment']));
    expect(result.drill.properties?.notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^owner not compared: role "shop_owner" does not exist/),
      ]),
    );
    expect(await drillRoles()).toEqual([]);
  });

  it('replays the newest verified globals first, restores with owners, and compares every property', async () => {
    const globals = await dumpGlobals({
      server: 'prod',
      connection: connectionOf(source.url('postgres')),
      backupDir: ws.backupDir,
    });
    await verifyBackup({ backupDir: ws.backupDir, id: globals.manifest.id, level: 'read' });
    const phases: string[] = [];
    const result = await runDrill({
      backupDir: ws.backupDir,
      target: 'prod.shop',
      server: drillConnection,
      globalsServer: 'prod',
      onPhase: (phase) => phases.push(phase),
    });
    expect(phases).toEqual(['globals', 'restoring', 'recording']);
    expect(result.drill).toMatchObject({
      ok: true,
      globals: { applied: true, backupId: globals.manifest.id },
      properties: { notes: [] },
    });
    // The tablespace's directory exists on this machine, in use by the source: CREATE TABLESPACE
    // fails on the drill server, the drill goes on, its tables restored into the default one.
    expect(result.drill.globals).toMatchObject({
      failed: 1,
      note: expect.stringMatching(/^create-tablespace hot: /),
    });
    expect(result.drill.globals?.rolesFailed).toBeUndefined();
    expect(result.drill.tables).toBe(2);
    expect([...(result.drill.properties?.compared ?? [])].sort()).toEqual(
      ['acl', 'comment', 'owner', 'role settings', 'settings'].sort(),
    );
    expect(await drillRoles()).toEqual(['shop_owner', 'shop_reader']);
    // Recorded in the manifest, beside the earlier drill that had no globals.
    const { manifest } = await findBackup(ws.backupDir, backupId);
    expect(manifest.drills?.map((drill) => drill.globals?.applied)).toEqual([false, true]);
  });
});

describe('runDrill with the server globals kept only in a bucket (retention 0)', () => {
  it('downloads the newest verified globals backup, replays it, records where it came from, and removes the download', async () => {
    const s3 = await S3Server.start({ buckets: ['backups'] });
    const elsewhere = await workspace();
    const destination = destinationOn(s3, { prefix: 'globals' });
    const store = new RemoteStore(destination);
    try {
      // Written and copied by the worker of another host; this backup directory has none.
      await fs.rm(path.join(ws.backupDir, 'prod.globals'), { recursive: true, force: true });
      const globals = await dumpGlobals({
        server: 'prod',
        connection: connectionOf(source.url('postgres')),
        backupDir: elsewhere.backupDir,
      });
      await verifyBackup({ backupDir: elsewhere.backupDir, id: globals.manifest.id, level: 'read' });
      await store.upload(await findBackup(elsewhere.backupDir, globals.manifest.id));

      const phases: string[] = [];
      const result = await runDrill({
        backupDir: ws.backupDir,
        target: 'prod.shop',
        server: drillConnection,
        globalsServer: 'prod',
        globalsSource: bucketGlobalsSource(ws.backupDir, [destination]),
        onPhase: (phase) => phases.push(phase),
      });
      expect(phases).toEqual(['globals', 'restoring', 'recording']);
      expect(result.drill).toMatchObject({
        ok: true,
        globals: { applied: true, backupId: globals.manifest.id, destination: 'offsite' },
      });
      expect(result.drill.globals?.rolesFailed).toBeUndefined();
      expect(await fs.readdir(tmpAreaOf(ws.backupDir)).catch(() => [])).toEqual([]);
    } finally {
      store.close();
      await elsewhere.remove();
      await s3.destroy();
    }
  });
});
