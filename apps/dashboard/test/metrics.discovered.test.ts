import {
  createBackupQueue,
  createRedisConnection,
  recordDiscovery,
  withDiscoveredTargets,
} from '@pgbackup/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSetup, viewer } from './support/config.js';
import { request } from './support/http.js';
import { writeTestManifest } from './support/manifests.js';
import { type ServedApp, serveApp } from './support/served-app.js';

const now = new Date('2026-11-25T12:00:00.000Z');

// A server target's databases are targets only through the discovery registry in Redis: the
// page and /metrics must know them as status and the worker's alerts do, or an SRE who watches
// pgbackup_stale would never see a discovered database go stale.
describe('databases a server target discovered, on the page and in /metrics', () => {
  const setup = testSetup({
    DATABASE_URL: 'postgresql://backup@127.0.0.1:5432/postgres',
    BACKUP_TARGET_NAME: 'srv',
    BACKUP_DISCOVER: 'all',
    BACKUP_MAX_AGE: '1d',
  });
  const redis = createRedisConnection(setup.config.redis);
  const queue = createBackupQueue(setup.config, redis);
  let served: ServedApp | undefined;
  let base: string;

  beforeAll(async () => {
    await recordDiscovery(redis, setup.config.redis.prefix, 'srv', [
      { database: 'shop', target: 'srv.shop' },
      { database: 'crm', target: 'srv.crm' },
    ]);
    await writeTestManifest(setup.config.backupDir, {
      target: 'srv.shop',
      createdAt: '2026-11-25T02:00:00.000Z',
    });
    served = await serveApp({
      config: setup.config,
      queue,
      redis,
      now: () => now,
      knownTargets: () => withDiscoveredTargets(redis, setup.config),
    });
    base = served.base;
  });

  afterAll(async () => {
    await served?.close();
    await queue.close();
    await redis.quit();
    setup.cleanup();
  });

  it('sets pgbackup_stale for each discovered database: 0 when backed up, 1 when it has no verified backup', async () => {
    const text = await (await request(`${base}/metrics`, { as: viewer })).text();
    expect(text).toContain('pgbackup_stale{target="srv.shop"} 0');
    expect(text).toContain('pgbackup_stale{target="srv.crm"} 1');
    // The server target itself has no backups of its own.
    expect(text).not.toContain('pgbackup_stale{target="srv"}');
  });

  it('shows a discovered database with its health, not as "not configured"', async () => {
    const html = await (await request(`${base}/backups`, { as: viewer })).text();
    const row = (target: string) =>
      new RegExp(`<tr[^>]*data-target="${target.replace('.', '\\.')}"[^>]*>([\\s\\S]*?)</tr>`).exec(
        html,
      )?.[0] ?? '';
    expect(row('srv.shop')).toContain('data-health="ok"');
    expect(row('srv.crm')).toContain('no verified backup');
    expect(row('srv.crm')).not.toContain('not configured');
    const page = await request(`${base}/targets/srv.crm`, { as: viewer });
    expect(page.status).toBe(200);
  });
});
