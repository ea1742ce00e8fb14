import fs from 'node:fs/promises';
import { enqueueDump, enqueuePrune } from '@pgbackup/queue';
import { createTestDatabase, freePort, waitFor } from '@pgbackup/testkit';
import { startWorkerService } from '@pgbackup/worker';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterEach, expect, it } from 'vitest';
import { jsonOf, runCli, spawnCli } from './test-support/run-cli.js';

// A directory the worker cannot write must fail the job with WRITE_FAILED and the path, and must
// never keep the target's lock: a lock held by a failed step blocks every later run of the target
// for ever, without an attempt spent or an alert sent.

let fixture: WorkerFixture | undefined;
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
});

/** Puts a plain file where the log directory is: mkdir, chmod and open all fail, even for root. */
async function breakDirectory(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.writeFile(dir, 'not a directory\n');
}

async function repairDirectory(dir: string): Promise<void> {
  await fs.rm(dir, { force: true });
  await fs.mkdir(dir, { mode: 0o700 });
}

async function health(
  url: string,
  path = '/readyz',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

it('a dump whose log directory became unwritable fails with WRITE_FAILED and the path, releases the lock, and works once it is fixed', async () => {
  const db = await createTestDatabase('unwritable');
  await db.query('CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100);');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_HEALTH_PORT: String(await freePort()),
  });
  const service = await fixture.start();
  const logDir = fixture.config.logDir;
  expect((await health(service.healthUrl!)).status).toBe(200);

  await breakDirectory(logDir);
  const failed = await runCli(fixture.env, ['dump', '--target', 'app', '--wait'], 90_000);
  expect(failed.code, failed.stderr).toBe(1);
  expect(failed.stderr).toContain('WRITE_FAILED');
  expect(failed.stderr).toContain(logDir);
  // Every attempt ran (none waited on a lock left behind) and the lock is free.
  const [job] = await fixture.queue.getJobs(['failed']);
  expect(job?.attemptsMade).toBe(3);
  expect(await service.context.locks.isLocked('app')).toBe(false);
  const report = await health(service.healthUrl!);
  expect(report.status).toBe(503);
  expect(JSON.stringify(report.body)).toContain(logDir);
  expect((await health(service.healthUrl!, '/healthz')).status).toBe(503);
  // Liveness leaves the directories out: restarting the worker would not fix them.
  expect((await health(service.healthUrl!, '/livez')).status).toBe(200);

  await repairDirectory(logDir);
  expect((await health(service.healthUrl!)).status).toBe(200);
  const fixed = await runCli(fixture.env, ['dump', '--target', 'app', '--wait'], 90_000);
  expect(fixed.code, fixed.stderr).toBe(0);
  expect(await fixture.verifiedBackups('app')).toHaveLength(1);
});

it('a prune whose log directory became unwritable fails with WRITE_FAILED and releases the lock', async () => {
  const db = await createTestDatabase('unwritable_prune');
  fixture = await workerFixture({ DATABASE_URL: db.url, BACKUP_TARGET_NAME: 'app' });
  const service = await fixture.start();
  await breakDirectory(fixture.config.logDir);

  const prune = await enqueuePrune(fixture.queue, { target: 'app' });
  expect(await fixture.finished(prune)).toBe('failed');
  const done = await fixture.queue.getJob(prune.id!);
  expect(done?.failedReason).toMatch(/^WRITE_FAILED: .*log directory/);
  expect(done?.failedReason).toContain(fixture.config.logDir);
  expect(await service.context.locks.isLocked('app')).toBe(false);

  // The target is not blocked: the next dump takes the lock at once and completes.
  await repairDirectory(fixture.config.logDir);
  const dump = await enqueueDump(fixture.queue, { target: 'app' });
  expect(await fixture.finished(dump)).toBe('completed');
});

it('a worker refuses to start when its backup or log directory cannot be written, naming it', async () => {
  const db = await createTestDatabase('unwritable_start');
  fixture = await workerFixture({ DATABASE_URL: db.url, BACKUP_TARGET_NAME: 'app' });
  for (const dir of [fixture.config.logDir, fixture.config.backupDir]) {
    await breakDirectory(dir);
    const error = await startWorkerService(fixture.config).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(error?.code).toBe('WRITE_FAILED');
    expect(error?.message).toContain(dir);
    await repairDirectory(dir);
  }
});

it('backupctl status names a target whose jobs fail to write while they still wait to retry', async () => {
  const db = await createTestDatabase('unwritable_status');
  fixture = await workerFixture({ DATABASE_URL: db.url, BACKUP_TARGET_NAME: 'app', BACKUP_BACKOFF: '10m' });
  await fixture.start();
  await breakDirectory(fixture.config.logDir);
  const dump = await enqueueDump(fixture.queue, { target: 'app' });
  await waitFor(
    'the first attempt to fail',
    async () => (await fixture!.queue.getJobState(dump.id!)) === 'delayed',
  );

  const status = await runCli(fixture.env, ['status', '--json']);
  const document = jsonOf<{ targets: Array<{ retrying: { id: string; reason: string } | null }> }>(status);
  expect(document.targets[0]?.retrying).toMatchObject({ id: dump.id, attempt: '1/3' });
  expect(document.targets[0]?.retrying?.reason).toMatch(/^WRITE_FAILED: .*log directory/);
  const text = await runCli(fixture.env, ['status']);
  expect(text.stdout).toMatch(
    new RegExp(`app: RETRYING: dump job ${dump.id}: attempt 1/3 failed: WRITE_FAILED`),
  );

  // dump --wait joins the waiting job and says why it waits, and until when.
  const follower = spawnCli(fixture.env, ['dump', '--target', 'app', '--wait']);
  try {
    await waitFor('the follower to show the retry', async () =>
      /dump app {2}attempt 1\/3 WRITE_FAILED, next at \d\d:\d\d:\d\dZ/.test(follower.stderr()),
    );
  } finally {
    follower.child.kill('SIGKILL');
  }
});
