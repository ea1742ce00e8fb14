import fs from 'node:fs/promises';
import { listBackups } from '@pgbackup/backup-core';
import { dumpSchedulerId } from '@pgbackup/queue';
import { createTestDatabase, waitFor } from '@pgbackup/testkit';
import { afterEach, expect, it } from 'vitest';
import { type WorkerFixture, workerFixture } from './test-support/worker-fixture.js';

let fixture: WorkerFixture | undefined;
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
});

it('a seconds-level schedule produces verified backups, then prunes by policy', async () => {
  const db = await createTestDatabase('sched');
  await db.query('CREATE TABLE t AS SELECT g, md5(g::text) AS v FROM generate_series(1, 1000) g');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_SCHEDULE: '*/2 * * * * *',
    // Keep one of everything: by the third verified backup, pruning must have deleted some.
    BACKUP_RETENTION: 'daily=1,weekly=0,monthly=0,min=1',
  });
  await fixture.start();
  const schedulers = await fixture.queue.getJobSchedulers(0, -1, true);
  expect(schedulers.map((s) => s.key)).toEqual([dumpSchedulerId('app')]);

  // The scheduled chain: dump -> verify -> prune. With daily=1 and min=1 only the newest
  // verified backup survives each prune, so seeing prune jobs delete proves the whole chain.
  await waitFor(
    'three scheduled dumps and prunes that deleted something',
    async () => {
      const prunes = await fixture!.queue.getJobs(['completed'], 0, -1);
      const deleted = prunes
        .filter((job) => job.name === 'prune')
        .flatMap((job) => job.returnvalue?.deleted ?? []);
      return deleted.length >= 2;
    },
    60_000,
  );
  const listing = await listBackups(fixture.config.backupDir, { target: 'app' });
  const verified = listing.entries.filter((e) =>
    e.manifest.verifications.some((v) => v.ok && v.level === 'read'),
  );
  expect(verified.length).toBeGreaterThanOrEqual(1);
  // Every remaining manifest points at an existing file.
  for (const entry of listing.entries) await expect(fs.stat(entry.filePath)).resolves.toBeDefined();
  // Run logs end with an explicit status.
  const logs = await fs.readdir(fixture.config.logDir);
  const dumpLog = logs.find((name) => /^app_\d{8}T\d{6}Z(\.\d+)?\.log$/.test(name));
  expect(dumpLog).toBeDefined();
  expect(
    (await fs.readFile(`${fixture.config.logDir}/${dumpLog}`, 'utf8')).trim().split('\n').at(-1),
  ).toMatch(/STATUS: SUCCESS$/);
});

it('restarting the worker or running several never duplicates a schedule, and drops removed targets', async () => {
  const a = await createTestDatabase('a');
  fixture = await workerFixture({ DATABASE_URL: a.url, BACKUP_TARGET_NAME: 'alpha' });
  for (let i = 0; i < 3; i++) await fixture.start();
  const keys = (await fixture.queue.getJobSchedulers(0, -1, true)).map((s) => s.key);
  expect(keys).toEqual([dumpSchedulerId('alpha')]);
  const delayed = (await fixture.queue.getJobs(['delayed', 'waiting'])).filter((job) => job.name === 'dump');
  expect(delayed).toHaveLength(1);

  // The same queue, now configured with another target only: alpha's schedule goes away.
  const b = await createTestDatabase('b');
  const next = await workerFixture({
    DATABASE_URL: b.url,
    BACKUP_TARGET_NAME: 'beta',
    BACKUP_QUEUE_PREFIX: fixture.env.BACKUP_QUEUE_PREFIX!,
  });
  try {
    await next.start();
    expect((await next.queue.getJobSchedulers(0, -1, true)).map((s) => s.key)).toEqual([
      dumpSchedulerId('beta'),
    ]);
  } finally {
    await next.cleanup();
  }
});
