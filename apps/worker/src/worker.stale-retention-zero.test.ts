import fs from 'node:fs/promises';
import { createTestDatabase, freePort, S3Server } from '@pgbackup/testkit';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { backupInBucketOnly } from './test-support/bucket-only-backup.js';
import { type WorkerFixture, workerFixture } from './test-support/worker-fixture.js';

// The stale alert judges the catalog `backupctl status` and the dashboard judge (readCatalog):
// with local retention 0 the backups are in the bucket, and an empty backup directory is not stale.
let s3: S3Server;
let fixture: WorkerFixture | undefined;
const hour = 3_600_000;

beforeAll(async () => {
  s3 = await S3Server.start({ buckets: ['backups'] });
}, 60_000);
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
});
afterAll(async () => {
  await s3?.destroy();
});

async function start(endpoint: string) {
  const db = await createTestDatabase('stale_retention_zero');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_MAX_AGE: '2h',
    BACKUP_RETENTION: '0',
    ...s3.destinationEnv(),
    BACKUP_S3_ENDPOINT: endpoint,
  });
  return (await fixture.start()).context.alerts;
}

it('retention 0: a fresh verified backup only in the bucket keeps the target from being stale; an old one does not', async () => {
  const alerts = await start(s3.endpoint);
  // The worker watches the target from now; three hours on, past the 2 h grace of a new target,
  // its only backup (in the bucket) is one hour old.
  const later = Date.now() + 3 * hour;
  await backupInBucketOnly(fixture!.config.destinations[0]!, 'app', new Date(later - hour));
  expect(await fs.readdir(fixture!.config.backupDir).catch(() => [])).not.toContain('app');
  expect(await alerts.checkStaleness(new Date(later))).toEqual([]);
  // Two more hours and the same backup is past the maximum age: stale, from the bucket's view too.
  expect(await alerts.checkStaleness(new Date(later + 2 * hour))).toEqual(['app']);
}, 120_000);

it('retention 0 and a bucket that cannot be listed: no stale alert judged on half a catalog', async () => {
  const alerts = await start(`http://127.0.0.1:${await freePort()}`);
  expect(await alerts.checkStaleness(new Date(Date.now() + 3 * hour))).toEqual([]);
}, 120_000);
