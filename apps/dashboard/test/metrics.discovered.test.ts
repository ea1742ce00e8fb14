import {
  createBackupQueue,
  createRedisConnection,
  dumpSchedulerId,
  QUEUE_NAME,
  recordDiscovery,
  withDiscoveredTargets,
} from '@pgbackup/queue';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator, testSetup, viewer } from './support/config.js';
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

  let worker: Worker | undefined;

  afterAll(async () => {
    await worker?.close();
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

  it('exports what status judges beyond the catalog: workers connected, schedulers missing, targets failing', async () => {
    const metrics = async () => (await request(`${base}/metrics`, { as: viewer })).text();
    let text = await metrics();
    // Nothing runs this queue yet: no worker, no scheduler, no failure.
    expect(text).toContain('pgbackup_workers 0');
    for (const target of ['srv.globals', 'srv.shop', 'srv.crm'])
      expect(text).toContain(`pgbackup_schedule_missing{target="${target}"} 1`);
    expect(text).not.toContain('pgbackup_schedule_missing{target="srv"}');
    expect(text).toContain('pgbackup_failing{target="srv.crm"} 0');

    // The server's scheduler (its databases run on it), and a worker whose only job fails for good.
    await queue.upsertJobScheduler(
      dumpSchedulerId('srv'),
      { pattern: '0 2 * * *' },
      { name: 'discover', data: { server: 'srv' } },
    );
    worker = new Worker(
      QUEUE_NAME,
      async (): Promise<void> => {
        throw new UnrecoverableError('PG_DATABASE_MISSING: database "crm" does not exist');
      },
      { connection: createRedisConnection(setup.config.redis), prefix: setup.config.redis.prefix },
    );
    const job = await queue.add('dump', { target: 'srv.crm', origin: 'manual' });
    await expect
      .poll(async () => (await queue.getJob(job.id!))?.finishedOn, { timeout: 10_000 })
      .toBeDefined();
    text = await metrics();
    expect(text).toContain('pgbackup_workers 1');
    for (const target of ['srv.globals', 'srv.shop', 'srv.crm'])
      expect(text).toContain(`pgbackup_schedule_missing{target="${target}"} 0`);
    expect(text).toContain('pgbackup_failing{target="srv.crm"} 1');
    expect(text).toContain('pgbackup_failing{target="srv.shop"} 0');
    // The page says it as status does.
    const html = await (await request(`${base}/backups`, { as: viewer })).text();
    expect(/<tr[^>]*data-target="srv\.crm"[^>]*data-health="failing"/.test(html)).toBe(true);
  });

  it("offers no action a server's globals cannot take, and refuses it when posted", async () => {
    const page = await (await request(`${base}/targets/srv.globals`, { as: operator })).text();
    const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    expect(token).toBeDefined();
    expect(page).toMatch(
      /<button[^>]*value="backup" disabled title="the roles and tablespaces of server srv are dumped at every run of the server, not alone"/,
    );
    expect(page).toMatch(
      /<button[^>]*value="drill" disabled title="the globals of server srv are restored by each of its databases/,
    );
    const post = (target: string, action: string) =>
      request(`${base}/targets/${target}/actions/${action}`, {
        as: operator,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: token! }).toString(),
      });
    const backup = await post('srv.globals', 'backup');
    expect(backup.status).toBe(409);
    expect(await backup.text()).toContain('Back up now is not available for srv.globals');
    const server = await post('srv', 'backup');
    expect(server.status).toBe(409);
    expect(await server.text()).toContain('srv is a server target: it has no backups of its own');
    expect(await queue.getJobCounts('waiting', 'delayed', 'prioritized')).toEqual({
      waiting: 0,
      delayed: 1,
      prioritized: 0,
    });
  });
});
