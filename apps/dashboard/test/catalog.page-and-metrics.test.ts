import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TargetConfig } from '@pgbackup/backup-core';
import { createBackupQueue, createRedisConnection } from '@pgbackup/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSetup, viewer } from './support/config.js';
import { makeFailedJob } from './support/failed-job.js';
import { request } from './support/http.js';
import { writeTestManifest } from './support/manifests.js';
import { type ServedApp, serveApp } from './support/served-app.js';

// A fixed clock: ages, staleness and "ago" columns are then exact.
const now = new Date('2026-11-25T12:00:00.000Z');
const day = 86_400_000;

describe('backups page and metrics from the catalog on disk', () => {
  const setup = testSetup({
    DATABASE_URL: 'postgresql://backup@127.0.0.1:5432/app',
    BACKUP_TARGET_NAME: 'app',
    BACKUP_MAX_AGE: '1d',
  });
  const app = setup.config.targets[0]!;
  const targets: TargetConfig[] = [app, { ...app, name: 'shop' }, { ...app, name: 'crm' }];
  const backupDir = setup.config.backupDir;
  const redis = createRedisConnection(setup.config.redis);
  const queue = createBackupQueue(setup.config, redis);
  let served: ServedApp | undefined;
  let base: string;
  const failedJobs: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    await writeTestManifest(backupDir, {
      target: 'app',
      createdAt: '2026-11-25T02:00:00.000Z',
      jobId: '42',
      keyId: 'k-2026<b>',
      sizeBytes: 1_572_864,
      durationMs: 95_000,
    });
    await writeTestManifest(backupDir, { target: 'app', createdAt: '2026-11-24T02:00:00.000Z' });
    await writeTestManifest(backupDir, {
      target: 'app',
      createdAt: '2026-11-25T10:00:00.000Z',
      suspicious: 'dump is 2% of the previous one <script>alert(1)</script>',
      sizeBytes: 2048,
      durationMs: 3_000,
    });
    await writeTestManifest(backupDir, { target: 'shop', createdAt: '2026-11-20T02:00:00.000Z' });
    await writeTestManifest(backupDir, {
      target: 'shop',
      createdAt: '2026-11-25T01:00:00.000Z',
      verification: 'failed',
    });
    await writeTestManifest(backupDir, {
      target: 'legacy',
      createdAt: '2026-10-01T02:00:00.000Z',
      verification: 'unverified',
    });
    await writeFile(
      path.join(backupDir, 'app', '20261123T020000000Z-app-0badf0.manifest.json'),
      '{ not json',
    );

    failedJobs.push(await makeFailedJob(setup.config, 'app', 'PG_UNREACHABLE: could not connect to server'));
    failedJobs.push(await makeFailedJob(setup.config, 'shop', 'PG_UNREACHABLE: timeout expired'));
    failedJobs.push(await makeFailedJob(setup.config, 'crm', 'job stalled more than allowable limit'));

    served = await serveApp({ config: { ...setup.config, targets }, queue, redis, now: () => now });
    base = served.base;
  });

  afterAll(async () => {
    await served?.close();
    for (const job of failedJobs) await job.close();
    await queue.close();
    await redis.quit();
    setup.cleanup();
  });

  async function page(query = ''): Promise<string> {
    const response = await request(`${base}/backups${query}`, { as: viewer });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    return response.text();
  }

  const row = (html: string, attribute: string) =>
    new RegExp(`<tr[^>]*${attribute}[^>]*>([\\s\\S]*?)</tr>`).exec(html)?.[0] ?? '';

  it('summarises each target: failing, stale (red), no verified backup, not configured', async () => {
    const html = await page();
    // Fresh, but a dump of it failed for good after its newest backup was taken: failing, as
    // backupctl status says (failureAnswered).
    const appRow = row(html, 'data-target="app"');
    expect(appRow).toContain('data-health="failing"');
    expect(appRow).toContain('>10h<'); // the 02:00 backup, 10 hours before "now"
    expect(appRow).toContain('badge bad">failing<');
    const shopRow = row(html, 'data-target="shop"');
    expect(shopRow).toContain('class="stale"');
    expect(shopRow).toContain('>5d 10h<');
    expect(shopRow).toContain('badge bad">stale + failing<');
    const crmRow = row(html, 'data-target="crm"');
    expect(crmRow).toContain('class="stale"');
    expect(crmRow).toContain('badge bad">no verified backup + failing<');
    expect(row(html, 'data-target="legacy"')).toContain('not configured');
  });

  it('lists the catalog newest first with size, compression, encryption, verification, status and job link', async () => {
    const html = await page();
    const ids = [...html.matchAll(/data-backup-id="([^"]+)"/g)].map((match) => match[1]);
    expect(ids).toEqual([
      expect.stringMatching(/^20261125T100000000Z-app-/),
      expect.stringMatching(/^20261125T020000000Z-app-/),
      expect.stringMatching(/^20261125T010000000Z-shop-/),
      expect.stringMatching(/^20261124T020000000Z-app-/),
      expect.stringMatching(/^20261120T020000000Z-shop-/),
      expect.stringMatching(/^20261001T020000000Z-legacy-/),
    ]);
    const newest = row(html, 'data-backup-id="20261125T020000000Z-app-');
    expect(newest).toContain('2026-11-25 02:00:00 UTC');
    expect(newest).toContain('1.5 MiB');
    expect(newest).toContain('zstd');
    expect(newest).toContain('k-2026&lt;b&gt;');
    expect(newest).toContain('badge ok">verified</span> read');
    expect(newest).toContain('badge ok">complete<');
    expect(newest).toContain('href="/queues/queue/backups/42"');
    const suspicious = row(html, 'data-backup-id="20261125T100000000Z-app-');
    expect(suspicious).toContain('suspicious');
    expect(suspicious).toContain('not counted');
    const failed = row(html, 'data-backup-id="20261125T010000000Z-shop-');
    expect(failed).toContain('badge bad">failed</span> read');
    expect(failed).toContain('CHECKSUM_MISMATCH');
  });

  it('escapes everything that comes from a manifest', async () => {
    const html = await page();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<b>');
  });

  it('shows unreadable manifests as catalog problems', async () => {
    const html = await page();
    expect(html).toContain('id="catalog-problems"');
    expect(html).toContain('20261123T020000000Z-app-0badf0.manifest.json');
    expect(html).toContain('is not valid JSON');
  });

  it('filters the catalog by ?target= and refuses a target that is not a name', async () => {
    const html = await page('?target=shop');
    const targetsOfRows = [...html.matchAll(/data-backup-id="[^"]+-(\w+)-[0-9a-f]{6}"/g)].map(
      (match) => match[1],
    );
    expect(targetsOfRows).toEqual(['shop', 'shop']);
    // The summary still shows every target.
    expect(html).toContain('data-target="app"');
    expect(
      (await request(`${base}/backups?target=${encodeURIComponent('../etc')}`, { as: viewer })).status,
    ).toBe(400);
  });

  it('exposes per-target, per-state and queue metrics in Prometheus format', async () => {
    const response = await request(`${base}/metrics`, { as: viewer });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await response.text();
    const value = (series: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    const appNewestVerified = Date.parse('2026-11-25T02:00:00.000Z') / 1000;
    expect(value('pgbackup_last_verified_timestamp_seconds{target="app"}')).toBe(appNewestVerified);
    // The suspicious 10:00 dump is the newest backup but not a success.
    expect(value('pgbackup_last_success_timestamp_seconds{target="app"}')).toBe(appNewestVerified + 95);
    expect(value('pgbackup_last_backup_size_bytes{target="app"}')).toBe(2048);
    expect(value('pgbackup_last_backup_duration_seconds{target="app"}')).toBe(3);
    expect(value('pgbackup_backups{target="app",state="verified"}')).toBe(2);
    expect(value('pgbackup_backups{target="app",state="suspicious"}')).toBe(1);
    expect(value('pgbackup_backups{target="shop",state="failed"}')).toBe(1);
    expect(value('pgbackup_backups{target="legacy",state="unverified"}')).toBe(1);
    expect(value('pgbackup_stale{target="app"}')).toBe(0);
    expect(value('pgbackup_stale{target="shop"}')).toBe(1);
    expect(value('pgbackup_stale{target="crm"}')).toBe(1);
    expect(value('pgbackup_stale{target="legacy"}')).toBeUndefined();
    // Failing as status says: app's dump failed after its newest backup; legacy is not configured.
    expect(value('pgbackup_failing{target="app"}')).toBe(1);
    expect(value('pgbackup_failing{target="legacy"}')).toBeUndefined();
    expect(value('pgbackup_max_age_seconds{target="app"}')).toBe(day / 1000);
    expect(value('pgbackup_catalog_problems')).toBe(1);
    expect(value('pgbackup_job_failures{code="PG_UNREACHABLE"}')).toBe(2);
    expect(value('pgbackup_job_failures{code="UNKNOWN"}')).toBe(1);
    expect(value('pgbackup_queue_jobs{state="failed"}')).toBe(3);
    expect(value('pgbackup_queue_jobs{state="waiting"}')).toBe(0);
    expect(value('pgbackup_redis_up')).toBe(1);
    expect(text).toContain('# TYPE pgbackup_stale gauge');
  });
});
