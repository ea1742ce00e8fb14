import { listBackups } from '@pgbackup/backup-core';
import { type DiscoverJobResult, jobNames, parseJobResult, readDiscovery } from '@pgbackup/queue';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ServerTargetFixture, serverTargetFixture } from './test-support/server-target-fixture.js';
import { type WebhookReceiver, webhookReceiver } from './test-support/webhook-receiver.js';
import type { WorkerFixture } from './test-support/worker-fixture.js';

// A server target on a private cluster: discovery at start, a run per "slot" (a discover job, as
// the scheduler creates), a database created between two runs, one dropped, the per-server cap.

let serverTarget: ServerTargetFixture;
let fixture: WorkerFixture;
let receiver: WebhookReceiver;
const odd = `odd "name" é`;

const sql = (database: string, text: string) => serverTarget.server.query(database, text);

async function runServer(): Promise<DiscoverJobResult> {
  const job = await fixture.queue.add(jobNames.discover, { server: 'srv', origin: 'schedule' });
  expect(await fixture.finished(job, 120_000)).toBe('completed');
  const result = parseJobResult('discover', job.id, (await fixture.queue.getJob(job.id!))?.returnvalue);
  for (const database of result.databases)
    expect(await fixture.finished(database.dumpJobId, 180_000), database.target).toBe('completed');
  return result;
}

const events = (event: string) => receiver.received.filter((body) => body.event === event);

beforeAll(async () => {
  receiver = await webhookReceiver();
  serverTarget = await serverTargetFixture(
    ['alpha', 'beta', odd],
    { BACKUP_CONCURRENCY: '3', BACKUP_SERVER_CONCURRENCY: '1', BACKUP_WEBHOOK_URL: receiver.url },
    'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100)',
  );
  fixture = serverTarget.fixture;
}, 120_000);

afterAll(async () => {
  await serverTarget?.cleanup();
  await receiver?.close();
});

it('discovers at start, backs up each database as its own target, then follows creations and drops', async () => {
  const service = await fixture.start();
  const { redis } = service.context;
  const prefix = fixture.config.redis.prefix;
  // At start: the three databases, each announced once.
  await expect
    .poll(
      async () => (await readDiscovery(redis, prefix, 'srv')).present.map((entry) => entry.database).sort(),
      {
        timeout: 30_000,
      },
    )
    .toEqual(['alpha', 'beta', odd].sort());
  await expect.poll(() => events('discovered').length, { timeout: 30_000 }).toBe(3);
  const oddTarget = (await readDiscovery(redis, prefix, 'srv')).present.find(
    (e) => e.database === odd,
  )!.target;
  expect(oddTarget).toMatch(/^srv\.odd__name___-[0-9a-f]{6}$/);

  // First run: one backup per database, verified, each in its own catalog.
  const first = await runServer();
  expect(first.databases.map((d) => d.target).sort()).toEqual(['srv.alpha', 'srv.beta', oddTarget].sort());
  expect(first.discovered).toEqual([]);
  for (const target of ['srv.alpha', 'srv.beta', oddTarget])
    await expect.poll(() => fixture.verifiedBackups(target), { timeout: 120_000 }).toHaveLength(1);
  const oddBackup = (await listBackups(fixture.config.backupDir, { target: oddTarget })).entries[0]!.manifest;
  expect(oddBackup.database).toBe(odd);

  // Between two runs: a database created, one dropped.
  await sql('postgres', 'CREATE DATABASE gamma');
  await sql('gamma', 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10)');
  await sql('postgres', 'DROP DATABASE beta');

  const second = await runServer();
  expect(second.discovered).toEqual(['srv.gamma']);
  expect(second.vanished).toEqual(['srv.beta']);
  expect(second.databases.map((d) => d.target).sort()).toEqual(['srv.alpha', oddTarget, 'srv.gamma'].sort());
  await expect.poll(() => fixture.verifiedBackups('srv.gamma'), { timeout: 120_000 }).toHaveLength(1);
  // The dropped database's backup stays (retention keeps it), no new one is attempted.
  expect(await fixture.verifiedBackups('srv.beta')).toHaveLength(1);
  // Discovery feeds the worker's known targets; the configuration stays as it was parsed.
  expect(service.context.config.targets.map((target) => target.name)).toEqual(['srv']);
  expect(service.context.targets.all.map((target) => target.name).sort()).toEqual(
    ['srv', 'srv.alpha', 'srv.gamma', 'srv.globals', oddTarget].sort(),
  );

  // A third run announces nothing again.
  const third = await runServer();
  expect(third.discovered).toEqual([]);
  expect(third.vanished).toEqual([]);
  await expect.poll(() => events('discovered').length, { timeout: 10_000 }).toBe(4);
  expect(events('discovered').map((body) => body.target)).toContain('srv.gamma');
  expect(events('vanished')).toEqual([
    expect.objectContaining({ event: 'vanished', server: 'srv', target: 'srv.beta', database: 'beta' }),
  ]);
  expect(await fixture.verifiedBackups('srv.beta')).toHaveLength(1);

  // Each run also backed up the server's roles and tablespaces, verified like a database's.
  await expect.poll(() => fixture.verifiedBackups('srv.globals'), { timeout: 120_000 }).toHaveLength(3);
  const globals = (await listBackups(fixture.config.backupDir, { target: 'srv.globals' })).entries;
  expect(globals.map((entry) => entry.manifest.format)).toEqual(['globals', 'globals', 'globals']);
  expect(globals.map((entry) => entry.manifest.id).sort()).toEqual(
    [first.globalsBackupId, second.globalsBackupId, third.globalsBackupId].sort(),
  );

  // BACKUP_SERVER_CONCURRENCY=1 with 3 worker slots: no two dumps of the server ever overlapped.
  const spans = (await listBackups(fixture.config.backupDir)).entries
    .map((entry) => entry.manifest)
    .filter((manifest) => manifest.target.startsWith('srv.') && manifest.format === 'custom')
    .map((manifest) => [Date.parse(manifest.createdAt), Date.parse(manifest.completedAt)] as const)
    .sort((a, b) => a[0] - b[0]);
  expect(spans.length).toBe(9);
  for (let index = 1; index < spans.length; index++)
    expect(spans[index]![0]).toBeGreaterThanOrEqual(spans[index - 1]![1]);
}, 600_000);

it('a server target is refused as a dump target, naming its databases', async () => {
  const job = await fixture.queue.add(jobNames.dump, { target: 'srv', origin: 'manual' });
  expect(await fixture.finished(job)).toBe('failed');
  expect((await fixture.queue.getJob(job.id!))?.failedReason).toMatch(
    /^TARGET_UNKNOWN: srv names a server, not a database/,
  );
  const globals = await fixture.queue.add(jobNames.dump, { target: 'srv.globals', origin: 'manual' });
  expect(await fixture.finished(globals)).toBe('failed');
  expect((await fixture.queue.getJob(globals.id!))?.failedReason).toMatch(
    /^TARGET_UNKNOWN: srv.globals holds the roles and tablespaces of srv/,
  );
}, 120_000);
