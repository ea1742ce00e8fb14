import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Manifest, writeManifest } from '@pgbackup/backup-core';
import { createBackupQueue, createRedisConnection, enqueueCopy, QUEUE_NAME } from '@pgbackup/queue';
import { waitFor } from '@pgbackup/testkit';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts, createDashboardApp } from '../src/index.js';
import { operator, testSetup, viewer } from './support/config.js';
import { request } from './support/http.js';
import { writeTestManifest } from './support/manifests.js';

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
  let server: Server | undefined;
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
    const connection = createRedisConnection(setup.config.redis);
    const worker = new Worker(
      QUEUE_NAME,
      async () => {
        throw new Error(
          'S3_UNREACHABLE: destination s3 (bucket pg-backups at AWS S3): cannot check the bucket',
        );
      },
      { connection, prefix: setup.config.redis.prefix },
    );
    try {
      await waitFor(
        'the copy job to fail',
        async () => (await queue.getJobState(job.id!)) === 'failed',
        30_000,
      );
    } finally {
      await worker.close();
      connection.disconnect();
    }
    const dashboard = createDashboardApp({
      config: setup.config,
      queue,
      redis,
      accounts: new Accounts([
        { ...operator, role: 'operator' },
        { ...viewer, role: 'viewer' },
      ]),
      now: () => now,
    });
    const listening = dashboard.listen(0, '127.0.0.1');
    server = listening;
    await new Promise((resolve) => listening.once('listening', resolve));
    base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    const listening = server;
    if (listening) {
      listening.closeAllConnections();
      await new Promise((resolve) => listening.close(resolve));
    }
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
    const later = createDashboardApp({
      config: setup.config,
      queue,
      redis,
      accounts: new Accounts([{ ...viewer, role: 'viewer' }]),
      now: () => new Date('2026-11-26T03:00:00.000Z'),
    });
    const listening = later.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    try {
      const port = (listening.address() as AddressInfo).port;
      const text = await (await request(`http://127.0.0.1:${port}/metrics`, { as: viewer })).text();
      expect(text).toContain('pgbackup_copy_behind{target="app",destination="s3"} 1');
    } finally {
      listening.closeAllConnections();
      await new Promise((resolve) => listening.close(resolve));
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
