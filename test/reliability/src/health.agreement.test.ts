import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listBackups } from '@pgbackup/backup-core';
import { jsonOf, runCli, type StatusDocument } from '@pgbackup/backupctl/testing';
import { collectMetrics, targetStatuses } from '@pgbackup/dashboard';
import { enqueueDump, watchedSince } from '@pgbackup/queue';
import { createTestDatabase, waitFor } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeConfigFile } from './support/config-file.js';

// One health rule (targetHealth), three readers: `backupctl status`, the dashboard (its page and
// pgbackup_stale) and the stale alert. Four targets, one per case, and the three must agree.
//   fresh:   verified just now, maximum age 1 h              -> ok
//   expired: verified, but its maximum age (2 s) has passed  -> stale
//   newbie:  never backed up, watched for less than 1 h      -> missing, in grace: no problem
//   ignored: never backed up, watched for longer than 2 s    -> missing, stale

let fixture: WorkerFixture;
let configDir: string;

beforeAll(async () => {
  const db = await createTestDatabase('agreement');
  await db.query('CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 50);');
  configDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-agreement-'));
  const configFile = await writeConfigFile(configDir, { verify: 'checksum' }, [
    { name: 'fresh', url: db.url, maxAge: '1h' },
    { name: 'expired', url: db.url, maxAge: '2s' },
    { name: 'newbie', url: db.url, maxAge: '1h' },
    { name: 'ignored', url: db.url, maxAge: '2s' },
  ]);
  fixture = await workerFixture({ BACKUP_CONFIG: configFile });
  await fixture.start();
  for (const target of ['fresh', 'expired']) {
    const job = await enqueueDump(fixture.queue, { target });
    expect(await fixture.finished(job)).toBe('completed');
    await waitFor(
      `a verified backup of ${target}`,
      async () => (await fixture.verifiedBackups(target)).length > 0,
    );
  }
  // Past the 2 s maximum age of `expired` and `ignored` (their backups and watch start are older).
  const expiredAt = Date.parse(
    (await listBackups(fixture.config.backupDir, { target: 'expired' })).entries[0]!.manifest.createdAt,
  );
  await waitFor('2 s to pass', async () => Date.now() - expiredAt > 2_500, 10_000);
}, 120_000);

afterAll(async () => {
  await fixture?.cleanup();
  if (configDir) await fs.rm(configDir, { recursive: true, force: true });
});

it('status, the dashboard and the stale alert give every target the same verdict', async () => {
  const expectedStale = ['expired', 'ignored'];

  const status = await runCli(fixture.env, ['status', '--json']);
  const document = jsonOf<StatusDocument>(status);
  const fromStatus = Object.fromEntries(
    document.targets.map((t) => [t.target, { state: t.state, stale: t.stale }]),
  );
  expect(status.code, status.stderr).toBe(1);

  const alerted = await fixture.services[0]!.context.alerts.checkStaleness();

  const redis = fixture.services[0]!.context.redis;
  const watched = await watchedSince(redis, fixture.config.redis.prefix);
  const listing = await listBackups(fixture.config.backupDir);
  const page = targetStatuses(fixture.config.targets, listing.entries, new Date(), watched);
  const fromPage = Object.fromEntries(page.map((t) => [t.target, { state: t.health, stale: t.stale }]));
  const metrics = await collectMetrics({
    config: fixture.config,
    queue: fixture.queue,
    logger: fixture.services[0]!.context.logger,
    now: () => new Date(),
    watchedSince: watched,
  });
  const staleMetric = Object.fromEntries(
    [...metrics.body.matchAll(/^pgbackup_stale\{target="([^"]+)"\} (\d)$/gm)].map((m) => [
      m[1],
      m[2] === '1',
    ]),
  );

  expect(fromStatus).toEqual({
    fresh: { state: 'ok', stale: false },
    expired: { state: 'stale', stale: true },
    newbie: { state: 'missing', stale: false },
    ignored: { state: 'missing', stale: true },
  });
  expect(fromPage).toEqual(fromStatus);
  expect(alerted.sort()).toEqual(expectedStale);
  expect(staleMetric).toEqual({ fresh: false, expired: true, newbie: false, ignored: true });
  expect(document.targets.find((t) => t.target === 'newbie')?.inGrace).toBe(true);
});
