import fs from 'node:fs/promises';
import path from 'node:path';
import { listBackups } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import { enqueueDrill, parseJobResult } from '@pgbackup/queue';
import { PostgresServer } from '@pgbackup/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dumpCopiedAndPruned, type OffsiteFixture, offsiteFixture } from './test-support/offsite-fixture.js';

// Local retention 0: the chain leaves the backup in the bucket only, and the drill job takes it
// from there (downloaded into the tmp area, removed afterwards), records the drill in the
// manifest object, and the drill staleness check reads it there.
let drillServer: PostgresServer;
let offsite: OffsiteFixture | undefined;
let store: RemoteStore | undefined;

beforeAll(async () => {
  drillServer = await PostgresServer.start();
}, 120_000);
afterAll(async () => {
  store?.close();
  await offsite?.cleanup();
  await drillServer?.destroy();
});

it('retention 0: a drill job drills the backup kept only in the bucket and records it in its manifest object', async () => {
  offsite = await offsiteFixture(
    'drill_bucket_only',
    { BACKUP_RETENTION: '0', BACKUP_DRILL_DATABASE_URL: drillServer.url('postgres') },
    'CREATE TABLE t AS SELECT g, md5(g::text) AS v FROM generate_series(1, 2000) g',
  );
  const { fixture } = offsite;
  const service = await fixture.start();
  const { backupId } = await dumpCopiedAndPruned(fixture);
  const backupDir = fixture.config.backupDir;
  expect((await listBackups(backupDir, { target: 'shop' })).entries).toEqual([]);
  // Watched for a month without a drill: stale (HSETNX elsewhere keeps the first time; set it here).
  await service.context.redis.hset(
    `${fixture.config.redis.prefix}:targets:watched-since`,
    'shop',
    new Date(Date.now() - 30 * 24 * 3_600_000).toISOString(),
  );
  expect(await service.context.drillAlerts.checkStaleness()).toEqual(['shop']);

  const job = await enqueueDrill(fixture.queue, { target: 'shop' });
  const state = await fixture.finished(job, 120_000);
  expect(state, (await fixture.queue.getJob(job.id!))?.failedReason).toBe('completed');
  const result = parseJobResult('drill', job.id, (await fixture.queue.getJob(job.id!))!.returnvalue);
  expect(result).toMatchObject({ backupId, target: 'shop', ok: true, tables: 1, destination: 's3' });
  const logs = (await fixture.queue.getJobLogs(job.id!)).logs.join('\n');
  expect(logs).toContain(
    `the newest verified backup, ${backupId}, is only in s3: downloading it for the drill`,
  );

  store = new RemoteStore(fixture.config.destinations[0]!);
  const { manifest } = await store.find(backupId);
  expect(manifest.drills).toHaveLength(1);
  expect(manifest.drills![0]).toMatchObject({
    ok: true,
    rows: 2000,
    destination: 's3',
    restoreMs: result.restoreMs,
  });
  // The download is gone, and the backup did not come back into the local catalog.
  expect(await fs.readdir(path.join(backupDir, '.tmp')).catch(() => [])).toEqual([]);
  expect((await listBackups(backupDir, { target: 'shop' })).entries).toEqual([]);
  // The drill recorded in the bucket counts: the target is no longer stale.
  expect(await service.context.drillAlerts.checkStaleness()).toEqual([]);
}, 300_000);
