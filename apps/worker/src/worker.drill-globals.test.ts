import { findBackup } from '@pgbackup/backup-core';
import { enqueueDrill, jobNames, parseJobResult } from '@pgbackup/queue';
import { PostgresServer, waitFor } from '@pgbackup/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type WorkerFixture, workerFixture } from './test-support/worker-fixture.js';

// A drill of a discovered database replays its server's newest verified globals on the drill
// server first and restores with owners: the drill job passes the target's server along.

let source: PostgresServer;
let drillServer: PostgresServer;
let fixture: WorkerFixture;

beforeAll(async () => {
  [source, drillServer] = await Promise.all([PostgresServer.start(), PostgresServer.start()]);
  await source.query(
    'postgres',
    'CREATE ROLE shop_owner NOLOGIN; CREATE ROLE shop_clerk LOGIN IN ROLE shop_owner',
  );
  await source.query('postgres', 'CREATE DATABASE shop OWNER shop_owner');
  await source.query(
    'postgres',
    "COMMENT ON DATABASE shop IS 'orders'; GRANT CONNECT ON DATABASE shop TO shop_clerk",
  );
  await source.query(
    'shop',
    'CREATE TABLE orders AS SELECT generate_series(1, 30) AS id; ALTER TABLE orders OWNER TO shop_owner',
  );
  fixture = await workerFixture({
    DATABASE_URL: source.url('postgres'),
    BACKUP_TARGET_NAME: 'srv',
    BACKUP_DISCOVER: 'all',
    BACKUP_SCHEDULE: '0 0 1 1 *',
    BACKUP_DRILL_DATABASE_URL: drillServer.url('postgres'),
  });
  await fixture.start();
}, 120_000);

afterAll(async () => {
  await fixture?.cleanup();
  await Promise.all([source?.destroy(), drillServer?.destroy()]);
});

it("a drill of a discovered database applies its server's globals first and compares the database properties", async () => {
  const run = await fixture.queue.add(jobNames.discover, { server: 'srv', origin: 'manual' });
  expect(await fixture.finished(run, 120_000)).toBe('completed');
  const ids: Record<string, string> = {};
  for (const target of ['srv.shop', 'srv.globals'])
    await waitFor(
      `a verified backup of ${target}`,
      async () => {
        const verified = await fixture.verifiedBackups(target);
        if (verified[0]) ids[target] = verified[0];
        return verified.length > 0;
      },
      120_000,
    );

  const job = await enqueueDrill(fixture.queue, { target: 'srv.shop' });
  expect(await fixture.finished(job, 120_000)).toBe('completed');
  const result = parseJobResult('drill', job.id, (await fixture.queue.getJob(job.id!))!.returnvalue);
  expect(result).toMatchObject({ backupId: ids['srv.shop'], globalsBackupId: ids['srv.globals'] });
  expect(result.notes).toBeUndefined();
  const drill = (await findBackup(fixture.config.backupDir, ids['srv.shop']!)).manifest.drills?.at(-1);
  expect(drill).toMatchObject({ ok: true, globals: { applied: true, backupId: ids['srv.globals'] } });
  expect([...(drill?.properties?.compared ?? [])].sort()).toEqual(
    ['acl', 'comment', 'owner', 'role settings', 'settings'].sort(),
  );
  const roles = await drillServer.query(
    'postgres',
    "SELECT rolname FROM pg_roles WHERE rolname LIKE 'shop\\_%' ORDER BY 1",
  );
  expect(roles.map((row) => row.rolname)).toEqual(['shop_clerk', 'shop_owner']);
}, 300_000);
