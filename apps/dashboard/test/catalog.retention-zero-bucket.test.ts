import fs from 'node:fs/promises';
import net from 'node:net';
import { createBackupQueue, createRedisConnection } from '@pgbackup/queue';
import { freePort, S3Server } from '@pgbackup/testkit';
import { backupInBucketOnly } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DashboardConfig } from '../src/index.js';
import { operator, testSetup, viewer } from './support/config.js';
import { request } from './support/http.js';
import { type ServedApp, serveApp } from './support/served-app.js';

// A worker with local retention 0 ("keep only until copied") has an empty backup directory by
// design: its backups are in the bucket. The dashboard reads the same catalog as backupctl
// (readCatalog): here against a real S3 server, with backups that exist only in the bucket.
let s3: S3Server;
let silent: net.Server | undefined;
const open: ServedApp[] = [];
const hour = 3_600_000;

/** The dashboard for `config` on a free port; closed in afterAll. */
async function serve(config: DashboardConfig, redisUrl: { redis: ReturnType<typeof createRedisConnection> }) {
  const queue = createBackupQueue(config, redisUrl.redis);
  const served = await serveApp({ config, queue, redis: redisUrl.redis });
  open.push(served);
  return { base: served.base, queue };
}

function envFor(endpoint: string): Record<string, string> {
  return {
    DATABASE_URL: 'postgresql://backup@127.0.0.1:5432/app',
    BACKUP_TARGET_NAME: 'app',
    BACKUP_MAX_AGE: '1d',
    BACKUP_RETENTION: '0',
    ...s3.destinationEnv(),
    BACKUP_S3_ENDPOINT: endpoint,
  };
}

beforeAll(async () => {
  s3 = await S3Server.start({ buckets: ['backups'] });
}, 60_000);

afterAll(async () => {
  for (const served of open) await served.close();
  silent?.close();
  await s3?.destroy();
});

describe('dashboard with local retention 0: the catalog is the bucket', () => {
  it('the backups page, the target page and /metrics show backups that exist only in the bucket', async () => {
    const setup = testSetup(envFor(s3.endpoint));
    const redis = createRedisConnection(setup.config.redis);
    try {
      const destination = setup.config.destinations[0]!;
      const older = await backupInBucketOnly(destination, 'app', new Date(Date.now() - 5 * hour));
      const newer = await backupInBucketOnly(destination, 'app', new Date(Date.now() - hour));
      // The dashboard's own backup directory holds nothing.
      expect(await fs.readdir(setup.config.backupDir)).toEqual([]);
      const { base, queue } = await serve(setup.config, { redis });
      try {
        const page = await request(`${base}/backups`, { as: viewer });
        expect(page.status).toBe(200);
        const html = await page.text();
        for (const id of [older.id, newer.id]) {
          const row = new RegExp(`<tr[^>]*data-backup-id="${id}"[^>]*>([\\s\\S]*?)</tr>`).exec(html)?.[0];
          expect(row, `row of ${id}`).toBeDefined();
          // In the bucket only: "s3", not "local".
          expect(row).toMatch(/<td class="where"><span title="s3:\/\/backups\/app\/[^"]+">s3<\/span><\/td>/);
        }
        expect(html).toMatch(/<tr[^>]*data-target="app" data-health="ok"/);
        expect(html).not.toContain('catalog-incomplete');

        const target = await request(`${base}/targets/app`, { as: viewer });
        expect(target.status).toBe(200);
        const targetHtml = await target.text();
        expect(targetHtml).toContain(`data-backup-id="${newer.id}"`);
        expect(targetHtml).toContain(`data-backup-id="${older.id}"`);

        const metrics = await (await request(`${base}/metrics`, { as: viewer })).text();
        expect(metrics).toContain('pgbackup_backups{target="app",state="verified"} 2');
        expect(metrics).toContain('pgbackup_stale{target="app"} 0');
        expect(metrics).toContain(
          `pgbackup_last_verified_timestamp_seconds{target="app"} ${Date.parse(newer.createdAt) / 1000}`,
        );
        expect(metrics).toContain('pgbackup_copies{target="app",destination="s3"} 2');
        expect(metrics).toContain('pgbackup_catalog_destination_up{destination="s3"} 1');

        // "Verify now" takes the newest backup the page shows, and verifies it where it is.
        const token = /name="csrf" value="([^"]+)"/.exec(
          await (await request(`${base}/targets/app`, { as: operator })).text(),
        )?.[1];
        expect(token).toBeDefined();
        const verify = await request(`${base}/targets/app/actions/verify`, {
          as: operator,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf: token! }).toString(),
        });
        expect(verify.status).toBe(303);
        const jobId = new URL(verify.headers.get('location')!, base).searchParams.get('job')!;
        const job = await queue.getJob(jobId);
        expect(job?.data).toMatchObject({ backupId: newer.id, destination: 's3' });
      } finally {
        await queue.close();
      }
    } finally {
      await redis.quit();
      setup.cleanup();
    }
  }, 120_000);

  it('a destination that refuses connections: an error on the page and in the metrics, not a 500 or "no backups"', async () => {
    const setup = testSetup(envFor(`http://127.0.0.1:${await freePort()}`));
    const redis = createRedisConnection(setup.config.redis);
    try {
      const { base, queue } = await serve(setup.config, { redis });
      try {
        const page = await request(`${base}/backups`, { as: viewer });
        expect(page.status).toBe(200);
        const html = await page.text();
        expect(html).toMatch(/<li data-destination="s3"><code>s3<\/code>: <code>S3_UNREACHABLE<\/code>/);
        expect(html).toContain('but the catalog is incomplete');
        expect(html).not.toMatch(/No backup (on disk|of)/);

        const target = await request(`${base}/targets/app`, { as: viewer });
        expect(target.status).toBe(200);
        expect(await target.text()).toContain('id="catalog-incomplete"');

        const metrics = await request(`${base}/metrics`, { as: viewer });
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toContain('pgbackup_catalog_destination_up{destination="s3"} 0');
      } finally {
        await queue.close();
      }
    } finally {
      await redis.quit();
      setup.cleanup();
    }
  }, 120_000);

  it('a destination that accepts connections and never answers: the listing is cut off and shown as an error', async () => {
    // A loopback listener that takes every connection and says nothing, as a hung proxy would.
    const held: net.Socket[] = [];
    silent = net.createServer((socket) => held.push(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => silent!.listen(port, '127.0.0.1', resolve));
    const setup = testSetup(envFor(`http://127.0.0.1:${port}`));
    const redis = createRedisConnection(setup.config.redis);
    try {
      const { base, queue } = await serve(setup.config, { redis });
      try {
        const page = await request(`${base}/backups`, { as: viewer });
        expect(page.status).toBe(200);
        const html = await page.text();
        expect(html).toMatch(/<code>S3_UNREACHABLE<\/code>[^<]*no complete answer within 5000 ms/);
        const metrics = await (await request(`${base}/metrics`, { as: viewer })).text();
        expect(metrics).toContain('pgbackup_catalog_destination_up{destination="s3"} 0');
      } finally {
        await queue.close();
      }
    } finally {
      for (const socket of held) socket.destroy();
      await redis.quit();
      setup.cleanup();
    }
  }, 120_000);
});
