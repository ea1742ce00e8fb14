import { enqueueDump, enqueueRestore, enqueueVerify } from '@pgbackup/queue';
import { createTestDatabase, PostgresServer, waitFor } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { webhookReceiver } from './test-support/webhook-receiver.js';
import { useWorkerFixtures, type WorkerFixture } from './test-support/worker-fixture.js';

const { workerFixture, onCleanup } = useWorkerFixtures();
let fixture: WorkerFixture | undefined;

it('retries a dump while PostgreSQL is down and succeeds once it is back', async () => {
  const server = await PostgresServer.start();
  onCleanup(() => server.destroy());
  fixture = await workerFixture({
    DATABASE_URL: server.url('postgres'),
    BACKUP_TARGET_NAME: 'flaky',
    BACKUP_ATTEMPTS: '6',
    BACKUP_BACKOFF: '1s',
  });
  await server.stop();
  await fixture.start();
  const job = await enqueueDump(fixture.queue, { target: 'flaky' });
  await waitFor(
    'a failed attempt',
    async () => ((await fixture!.queue.getJob(job.id!))?.attemptsMade ?? 0) >= 1,
    30_000,
  );
  await server.restart();
  expect(await fixture.finished(job)).toBe('completed');
  const done = await fixture.queue.getJob(job.id!);
  expect(done?.attemptsMade).toBeGreaterThanOrEqual(2);
  const logs = await fixture.queue.getJobLogs(job.id!);
  expect(logs.logs.join('\n')).toMatch(/attempt 1\/6 failed \(will be retried\): PG_UNREACHABLE/);
  expect(logs.logs.join('\n')).toMatch(/succeeded/);
});

it('fails at once, without retrying, when the database does not exist', async () => {
  const db = await createTestDatabase('missing');
  fixture = await workerFixture({
    DATABASE_URL: `${db.url}_nope`,
    BACKUP_TARGET_NAME: 'ghost',
    BACKUP_ATTEMPTS: '5',
  });
  await fixture.start();
  const job = await enqueueDump(fixture.queue, { target: 'ghost' });
  expect(await fixture.finished(job)).toBe('failed');
  const failed = await fixture.queue.getJob(job.id!);
  expect(failed?.attemptsMade).toBe(1);
  expect(failed?.failedReason).toMatch(/^PG_DATABASE_MISSING: /);
});

it('fails a job whose data is invalid at once, naming the field', async () => {
  const db = await createTestDatabase('payload');
  fixture = await workerFixture({ DATABASE_URL: db.url, BACKUP_TARGET_NAME: 'app' });
  await fixture.start();
  // Straight into Redis, as a buggy client or a hand-written command would.
  const bad = await fixture.queue.add('dump', { target: 42, extra: 'x' });
  const unknown = await fixture.queue.add('dump', { target: 'nope' });
  expect(await fixture.finished(bad)).toBe('failed');
  expect(await fixture.finished(unknown)).toBe('failed');
  const badJob = await fixture.queue.getJob(bad.id!);
  expect(badJob?.attemptsMade).toBe(1);
  expect(badJob?.failedReason).toMatch(/^JOB_DATA_INVALID: invalid dump job data: target: .*extra/);
  expect((await fixture.queue.getJob(unknown.id!))?.failedReason).toMatch(/^TARGET_UNKNOWN: /);
});

it('sends a webhook on final failure and on recovery, and a webhook outage never fails a backup', async () => {
  const hook = await webhookReceiver();
  onCleanup(() => hook.close());
  const { received } = hook;

  const db = await createTestDatabase('hooked');
  const name = `${db.name}_later`;
  fixture = await workerFixture({
    DATABASE_URL: db.url.replace(`/${db.name}`, `/${name}`),
    BACKUP_TARGET_NAME: 'hooked',
    BACKUP_WEBHOOK_URL: hook.url,
  });
  await fixture.start();
  const job = await enqueueDump(fixture.queue, { target: 'hooked' });
  expect(await fixture.finished(job)).toBe('failed');
  await waitFor('the failure webhook', async () => received.some((r) => r.event === 'failure'), 10_000);
  const failure = received.find((r) => r.event === 'failure')!;
  expect(failure).toMatchObject({ target: 'hooked', code: 'PG_DATABASE_MISSING', jobId: job.id });
  expect(String(failure.text)).toContain(`backupctl retry ${job.id}`);

  // The cause is fixed, the operator retries: the dump, its verify and a recovery notice follow.
  await db.query(`CREATE DATABASE "${name}"`);
  const failedJob = await fixture.queue.getJob(job.id!);
  await failedJob!.retry('failed', { resetAttemptsMade: true });
  expect(await fixture.finished(job)).toBe('completed');
  await waitFor('the recovery webhook', async () => received.some((r) => r.event === 'recovery'), 30_000);
  expect(received.filter((r) => r.event === 'failure')).toHaveLength(1);
});

it('re-verifying an older backup after a failed dump sends no recovery; a new backup does; a failed restore has its own alert', async () => {
  const hook = await webhookReceiver();
  onCleanup(() => hook.close());
  const { received } = hook;
  const db = await createTestDatabase('recheck');
  const admin = await createTestDatabase('recheck_admin');
  const moved = `${db.name}_moved`;
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'recheck',
    BACKUP_WEBHOOK_URL: hook.url,
  });
  const service = await fixture.start();
  expect(await fixture.finished(await enqueueDump(fixture.queue, { target: 'recheck' }))).toBe('completed');
  await waitFor(
    'the verified backup',
    async () => (await fixture!.verifiedBackups('recheck')).length === 1,
    30_000,
  );
  const [older] = await fixture.verifiedBackups('recheck');

  // The night's dump fails for good: the database is not where the target says.
  await admin.query(`ALTER DATABASE "${db.name}" RENAME TO "${moved}"`);
  expect(await fixture.finished(await enqueueDump(fixture.queue, { target: 'recheck' }))).toBe('failed');
  await waitFor('the failure webhook', async () => received.some((r) => r.event === 'failure'), 10_000);

  // The morning after, the older backup is verified again: it passes, but answers nothing.
  // Its own job id: the chain's verification of that backup is kept under the deterministic one.
  const recheck = await enqueueVerify(
    fixture.queue,
    { backupId: older!, level: 'read', origin: 'manual' },
    { jobId: 'manual-recheck' },
  );
  expect(await fixture.finished(recheck)).toBe('completed');
  // The job completes only after its alert step: the target is still failing, and no recovery
  // was sent (the failing key goes with a recovery).
  const failingKey = `${fixture.config.redis.prefix}:alerts:failing:recheck`;
  expect(await service.context.redis.exists(failingKey)).toBe(1);
  expect(received.filter((r) => r.event === 'recovery')).toEqual([]);

  // A restore that fails: its own event, with the command that runs it again; not a failure.
  const restore = await enqueueRestore(fixture.queue, {
    backupId: older!.replace(/-[0-9a-f]{6}$/, '-000000'),
    database: 'recheck_copy',
    origin: 'manual',
  });
  expect(await fixture.finished(restore)).toBe('failed');
  await waitFor(
    'the restore webhook',
    async () => received.some((r) => r.event === 'restore_failed'),
    10_000,
  );
  const restoreAlert = received.find((r) => r.event === 'restore_failed')!;
  expect(restoreAlert).toMatchObject({ target: 'recheck', code: 'BACKUP_NOT_FOUND', jobId: restore.id });
  expect(String(restoreAlert.text)).toContain(
    `to run it again: backupctl restore ${older!.replace(/-[0-9a-f]{6}$/, '-000000')} --to recheck_copy --wait`,
  );
  expect(received.filter((r) => r.event === 'failure')).toHaveLength(1);

  // The cause is fixed and a new backup is taken: that answers the failure.
  await admin.query(`ALTER DATABASE "${moved}" RENAME TO "${db.name}"`);
  expect(await fixture.finished(await enqueueDump(fixture.queue, { target: 'recheck' }))).toBe('completed');
  await waitFor('the recovery webhook', async () => received.some((r) => r.event === 'recovery'), 30_000);
  expect(received.filter((r) => r.event === 'recovery')).toHaveLength(1);
});

it('a webhook that is down is logged, and the backup still succeeds', async () => {
  const db = await createTestDatabase('nohook');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_WEBHOOK_URL: 'http://127.0.0.1:1/unreachable',
  });
  await fixture.start();
  const job = await enqueueDump(fixture.queue, { target: 'app' });
  expect(await fixture.finished(job)).toBe('completed');
  await waitFor(
    'the verified backup',
    async () => (await fixture!.verifiedBackups('app')).length === 1,
    30_000,
  );
});
