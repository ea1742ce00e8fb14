import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findBackup, isVerified, listBackups } from '@pgbackup/backup-core';
import {
  drillSchedulerId,
  dumpSchedulerId,
  enqueueDrill,
  enqueueDump,
  failureCodeOf,
  parseJobResult,
} from '@pgbackup/queue';
import { createTestDatabase, freePort, PostgresServer, type TestDatabase, waitFor } from '@pgbackup/testkit';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type WebhookReceiver, webhookReceiver } from './test-support/webhook-receiver.js';
import { type WorkerFixture, workerFixture } from './test-support/worker-fixture.js';

// Drills restore onto a server of their own: a second private cluster, as in production.
let drillServer: PostgresServer;
let fixture: WorkerFixture | undefined;
let receiver: WebhookReceiver | undefined;

beforeAll(async () => {
  drillServer = await PostgresServer.start();
}, 120_000);
afterAll(async () => {
  await drillServer?.destroy();
});
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
  await receiver?.close();
  receiver = undefined;
});

async function sourceDatabase(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  await db.query('CREATE TABLE t AS SELECT g, md5(g::text) AS v FROM generate_series(1, 2000) g');
  return db;
}

/** Dumps the target through the queue and waits for its verified backup. */
async function verifiedBackup(f: WorkerFixture, target: string): Promise<string> {
  const job = await enqueueDump(f.queue, { target });
  expect(await f.finished(job, 120_000)).toBe('completed');
  let ids: string[] = [];
  await waitFor(
    `a verified backup of ${target}`,
    async () => {
      ids = await f.verifiedBackups(target);
      return ids.length > 0;
    },
    120_000,
  );
  return ids[0]!;
}

it('a drill job restores the newest verified backup on the drill server, records it, and alerts when the RTO exceeds the max', async () => {
  receiver = await webhookReceiver();
  const db = await sourceDatabase('drill_ok');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_DRILL_DATABASE_URL: drillServer.url('postgres'),
    // Any real restore takes longer than 1 ms: the RTO alert must fire.
    BACKUP_DRILL_MAX_RTO: '1ms',
    BACKUP_WEBHOOK_URL: receiver.url,
  });
  await fixture.start({ webhookRetry: { delaysMs: [200], jitter: 0 } });
  const keys = (await fixture.queue.getJobSchedulers(0, -1, true)).map((s) => s.key).sort();
  expect(keys).toEqual([drillSchedulerId('app'), dumpSchedulerId('app')].sort());

  const id = await verifiedBackup(fixture, 'app');
  const job = await enqueueDrill(fixture.queue, { target: 'app' });
  expect(await fixture.finished(job, 120_000)).toBe('completed');
  const result = parseJobResult('drill', job.id, (await fixture.queue.getJob(job.id!))!.returnvalue);
  expect(result).toMatchObject({ backupId: id, target: 'app', ok: true, tables: 1, rtoExceeded: true });
  expect(result.server).toBe(`127.0.0.1:${drillServer.port}`);

  const { manifest } = await findBackup(fixture.config.backupDir, id);
  expect(manifest.drills).toHaveLength(1);
  expect(manifest.drills![0]).toMatchObject({ ok: true, restoreMs: result.restoreMs, rows: 2000 });
  await expect
    .poll(() => receiver!.received.map((body) => body.event), { timeout: 10_000 })
    .toContain('drill_rto_exceeded');
});

it('a drill of a corrupt backup fails at once, is recorded in the manifest and alerts', async () => {
  receiver = await webhookReceiver();
  const db = await sourceDatabase('drill_bad');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_DRILL_DATABASE_URL: drillServer.url('postgres'),
    BACKUP_WEBHOOK_URL: receiver.url,
  });
  await fixture.start({ webhookRetry: { delaysMs: [200], jitter: 0 } });
  const id = await verifiedBackup(fixture, 'app');
  // Bit rot after the verification.
  const { filePath } = await findBackup(fixture.config.backupDir, id);
  const bytes = await fs.readFile(filePath);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
  await fs.writeFile(filePath, bytes);

  const job = await enqueueDrill(fixture.queue, { target: 'app' });
  expect(await fixture.finished(job, 120_000)).toBe('failed');
  const failed = (await fixture.queue.getJob(job.id!))!;
  expect(failureCodeOf(failed.failedReason)).toBe('CHECKSUM_MISMATCH');
  // A defect is not retried.
  expect(failed.attemptsMade).toBe(1);
  const { manifest } = await findBackup(fixture.config.backupDir, id);
  expect(manifest.drills?.at(-1)).toMatchObject({ ok: false, errorCode: 'CHECKSUM_MISMATCH' });
  expect(isVerified(manifest)).toBe(false);
  await expect
    .poll(() => receiver!.received.find((body) => body.event === 'drill_failed'), { timeout: 10_000 })
    .toMatchObject({ target: 'app', code: 'CHECKSUM_MISMATCH' });
});

it('with the drill server down the drill is retried as an environment failure and the backup stays verified', async () => {
  const db = await sourceDatabase('drill_down');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    // Nothing listens there.
    BACKUP_DRILL_DATABASE_URL: `postgresql://postgres@127.0.0.1:${await freePort()}/postgres`,
    BACKUP_ATTEMPTS: '2',
  });
  await fixture.start();
  const id = await verifiedBackup(fixture, 'app');
  const before = (await findBackup(fixture.config.backupDir, id)).manifest;

  const job = await enqueueDrill(fixture.queue, { target: 'app' });
  expect(await fixture.finished(job, 120_000)).toBe('failed');
  const failed = (await fixture.queue.getJob(job.id!))!;
  expect(failureCodeOf(failed.failedReason)).toBe('PG_UNREACHABLE');
  expect(failed.attemptsMade).toBe(2);
  const after = (await findBackup(fixture.config.backupDir, id)).manifest;
  expect(after).toEqual(before);
  expect(isVerified(after)).toBe(true);
});

it('many targets due at once are drilled one at a time across two workers (BACKUP_DRILL_CONCURRENCY=1)', async () => {
  const names = ['a1', 'a2', 'a3', 'a4'];
  const dbs = await Promise.all(names.map((name) => sourceDatabase(`drill_${name}`)));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-config-'));
  const configFile = path.join(dir, 'backups.yaml');
  await fs.writeFile(
    configFile,
    `targets:\n${names.map((name, i) => `  - name: ${name}\n    url: ${dbs[i]!.url}\n`).join('')}`,
  );
  try {
    fixture = await workerFixture({
      BACKUP_CONFIG: configFile,
      BACKUP_DRILL_DATABASE_URL: drillServer.url('postgres'),
      BACKUP_CONCURRENCY: '4',
      BACKUP_DRILL_CONCURRENCY: '1',
    });
    await fixture.start();
    await fixture.start();
    for (const name of names) await verifiedBackup(fixture, name);

    const jobs = await Promise.all(names.map((target) => enqueueDrill(fixture!.queue, { target })));
    for (const job of jobs) expect(await fixture.finished(job, 240_000)).toBe('completed');
    // The budget was contended: some drill waited for a slot (delayed, no attempt spent).
    const logs = await Promise.all(jobs.map((job) => fixture!.queue.getJobLogs(job.id!)));
    expect(logs.flatMap((log) => log.logs).some((line) => line.includes('drill budget'))).toBe(true);
    // Waiting for a slot spent no attempt: each drill ran once.
    for (const job of jobs) expect((await fixture.queue.getJob(job.id!))!.attemptsMade).toBe(1);

    const listing = await listBackups(fixture.config.backupDir);
    const drills = listing.entries
      .flatMap((entry) => entry.manifest.drills ?? [])
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    expect(drills).toHaveLength(4);
    expect(drills.every((drill) => drill.ok)).toBe(true);
    // Never two at once: each drill started after the previous one ended.
    for (let i = 1; i < drills.length; i++) {
      expect(Date.parse(drills[i]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(drills[i - 1]!.at));
    }
    // And the slots were all given back.
    expect(await fixture.services[0]!.context.slots.holders('drills')).toBe(0);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
