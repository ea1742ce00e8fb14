import { type Manifest, writeManifest } from '@pgbackup/backup-core';
import { createBackupQueue, createRedisConnection, enqueueCopy } from '@pgbackup/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts } from '../src/index.js';
import { testSetup, viewer } from './support/config.js';
import { failWithStandIn } from './support/failed-job.js';
import { request } from './support/http.js';
import { writeTestManifest } from './support/manifests.js';
import { type ServedApp, serveApp } from './support/served-app.js';

// Where each backup lives (page) and how the offsite copies are doing (/metrics), from the
// manifests' confirmed copies and the queue's failed copy jobs.
const now = new Date('2026-11-25T12:00:00.000Z');

function withCopy(manifest: Manifest, destination: string, confirmedAt: string): Manifest {
  return {
    ...manifest,
    copies: [
      ...(manifest.copies ?? []),
      {
        destination,
        bucket: 'pg-backups',
        key: `${manifest.target}/${manifest.file}`,
        sizeBytes: manifest.sizeBytes,
        sha256: manifest.sha256,
        confirmedAt,
      },
    ],
  };
}

describe('offsite copies in the dashboard', () => {
  const setup = testSetup({
    DATABASE_URL: 'postgresql://backup@127.0.0.1:5432/app',
    BACKUP_TARGET_NAME: 'app',
    BACKUP_MAX_AGE: '1d',
    BACKUP_S3_BUCKET: 'pg-backups',
  });
  const backupDir = setup.config.backupDir;
  const redis = createRedisConnection(setup.config.redis);
  const queue = createBackupQueue(setup.config, redis);
  let served: ServedApp | undefined;
  let base: string;
  let copiedId: string;
  let uncopiedId: string;

  beforeAll(async () => {
    // Two days old and copied; ten hours old and not copied yet (within the maximum age).
    const old = await writeTestManifest(backupDir, { target: 'app', createdAt: '2026-11-23T02:00:00.000Z' });
    await writeManifest(backupDir, withCopy(old, 's3', '2026-11-23T02:10:00.000Z'));
    copiedId = old.id;
    uncopiedId = (
      await writeTestManifest(backupDir, { target: 'app', createdAt: '2026-11-25T02:00:00.000Z' })
    ).id;
    // A copy job that failed for good, the way the worker reports it.
    const job = await enqueueCopy(queue, { backupId: uncopiedId, destination: 's3' }, { attempts: 1 });
    await failWithStandIn(
      setup.config,
      queue,
      job.id!,
      'S3_UNREACHABLE: destination s3 (bucket pg-backups at AWS S3): cannot check the bucket',
    );
    served = await serveApp({ config: setup.config, queue, redis, now: () => now });
    base = served.base;
  });

  afterAll(async () => {
    await served?.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await redis.quit();
    setup.cleanup();
  });

  it('metrics: the newest confirmed copy, copies per destination, not behind within the maximum age, failures by code', async () => {
    const response = await request(`${base}/metrics`, { as: viewer });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain(
      `pgbackup_last_copy_success_timestamp_seconds{target="app",destination="s3"} ${Date.parse('2026-11-23T02:10:00.000Z') / 1000}`,
    );
    expect(text).toContain('pgbackup_copies{target="app",destination="s3"} 1');
    // The uncopied backup is 10 h old, within the 1 d maximum age: still copying, not behind.
    expect(text).toContain('pgbackup_copy_behind{target="app",destination="s3"} 0');
    expect(text).toContain('pgbackup_copy_failures{destination="s3",code="S3_UNREACHABLE"} 1');
  });

  it('metrics: behind once the uncopied backup is past the maximum age', async () => {
    const later = await serveApp({
      config: setup.config,
      queue,
      redis,
      accounts: new Accounts([{ ...viewer, role: 'viewer' }]),
      now: () => new Date('2026-11-26T03:00:00.000Z'),
    });
    try {
      const text = await (await request(`${later.base}/metrics`, { as: viewer })).text();
      expect(text).toContain('pgbackup_copy_behind{target="app",destination="s3"} 1');
    } finally {
      await later.close();
    }
  });

  it('the backups page says where each backup lives', async () => {
    const response = await request(`${base}/backups`, { as: viewer });
    const html = await response.text();
    const rowOf = (id: string) =>
      new RegExp(`<tr[^>]*data-backup-id="${id}"[^>]*>([\\s\\S]*?)</tr>`).exec(html)?.[0] ?? '';
    expect(html).toContain('<th>Where</th>');
    expect(rowOf(copiedId)).toMatch(
      /<td class="where">local, <span title="s3:\/\/pg-backups\/app\/[^"]+">s3<\/span><\/td>/,
    );
    expect(rowOf(uncopiedId)).toContain('<td class="where">local</td>');
  });
});
