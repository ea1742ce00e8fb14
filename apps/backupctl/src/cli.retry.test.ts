import { createTestDatabase, quoteIdent, type TestDatabase, withDatabase } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DumpDocument } from './commands/dump.js';
import type { JobsDocument } from './commands/jobs.js';
import type { RetryDocument } from './commands/retry.js';
import type { StatusDocument } from './commands/status.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

let fixture: WorkerFixture;
let source: TestDatabase;
let admin: TestDatabase;
let missing: string;

beforeAll(async () => {
  // The target's database does not exist yet: its dump fails (PG_DATABASE_MISSING, not retried)
  // until the test creates it from `source`.
  source = await createTestDatabase('late_src');
  await source.query('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 500) g');
  admin = await createTestDatabase('late_admin');
  missing = `${source.name}_later`;
  fixture = await workerFixture({
    DATABASE_URL: withDatabase(source.url, missing),
    BACKUP_TARGET_NAME: 'late',
  });
  await fixture.start();
});

afterAll(async () => {
  await fixture?.cleanup();
});

it('a failed dump: --wait exits 1 with the reason, status fails, and retry after the fix completes', async () => {
  const env = fixture.env;
  const dump = await runCli(env, ['dump', '--wait', '--json']);
  expect(dump.code, dump.stderr).toBe(1);
  const chain = jsonOf<DumpDocument>(dump).results[0]!;
  expect(chain).toMatchObject({
    ok: false,
    target: 'late',
    backupId: null,
    dump: null,
    verify: null,
    prune: null,
  });
  expect(chain.failure).toMatchObject({ name: 'dump', jobId: chain.dumpJobId, code: 'PG_DATABASE_MISSING' });
  expect(chain.failure?.reason).toMatch(/^PG_DATABASE_MISSING: /);
  expect(dump.stderr).toMatch(/backupctl: dump of late failed: PG_DATABASE_MISSING: /);
  const jobId: string = chain.dumpJobId;

  const human = await runCli(env, ['dump', '--wait']);
  expect(human.code).toBe(1);
  expect(human.stdout).toMatch(/^FAILED\s+dump of late: dump job \S+: PG_DATABASE_MISSING: /m);

  const failed = jsonOf<JobsDocument>(await runCli(env, ['jobs', '--state', 'failed', '--json']));
  expect(failed.jobs.map((job) => job.id)).toContain(jobId);
  expect(failed.jobs.find((job) => job.id === jobId)).toMatchObject({
    name: 'dump',
    target: 'late',
    state: 'failed',
    attemptsMade: 1,
    attempts: 3,
    failedReason: expect.stringMatching(/^PG_DATABASE_MISSING: /),
  });
  const table = await runCli(env, ['jobs', '--state', 'failed']);
  expect(table.stdout).toMatch(
    new RegExp(`^${jobId}\\s+dump\\s+late\\s+failed\\s+1/3\\s+.*PG_DATABASE_MISSING`, 'm'),
  );

  // Never backed up (a new target, still in its grace period) but failing: the check fails.
  const status = await runCli(env, ['status', '--json']);
  expect(status.code).toBe(1);
  expect(jsonOf<StatusDocument>(status).targets[0]).toMatchObject({
    target: 'late',
    ok: false,
    state: 'failing',
    stale: false,
    inGrace: true,
    failing: true,
    lastVerified: null,
    failingJob: { name: 'dump', reason: expect.stringMatching(/^PG_DATABASE_MISSING/) },
    failedJobs: { count: 2 },
  });
  const statusText = await runCli(env, ['status']);
  expect(statusText.stdout).toMatch(/late: MISSING: no verified backup yet; a new target/);
  expect(statusText.stdout).toMatch(/late: FAILING: dump job \S+ failed .*\(retry: backupctl retry \S+\)/);

  const unknown = await runCli(env, ['retry', 'no-such-job']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/JOB_UNKNOWN: no job no-such-job: nothing was retried/);
  expect(unknown.stderr).toMatch(/backupctl jobs --state failed/);

  // A typo in --target is a usage error, not "no failed jobs".
  const typo = await runCli(env, ['retry', '--all-failed', '--target', 'lat']);
  expect(typo.code).toBe(2);
  expect(typo.stderr).toMatch(/TARGET_UNKNOWN: Unknown target "lat"\. Did you mean "late"\?/);

  // Two failed dumps of one target, cause not fixed: --all-failed retries only the newer one
  // (one dump makes a backup), which fails again.
  const newerId = failed.jobs.find((job) => job.id !== jobId && job.name === 'dump')!.id;
  const early = await runCli(env, ['retry', '--all-failed', '--target', 'late', '--json']);
  expect(early.code, early.stderr).toBe(0);
  const earlyDoc = jsonOf<RetryDocument>(early);
  expect(earlyDoc.retried.map((job) => job.id)).toEqual([newerId]);
  expect(earlyDoc.skipped).toEqual([
    expect.objectContaining({
      id: jobId,
      name: 'dump',
      instead: null,
      reason: `an older failed dump of late: dump job ${newerId} is retried, and one dump makes a backup`,
    }),
  ]);
  expect(await fixture.finished(newerId)).toBe('failed');

  // Fix the cause, then retry the first job and follow it through its verification.
  await admin.query(`CREATE DATABASE ${quoteIdent(missing)} TEMPLATE ${quoteIdent(source.name)}`);
  const retried = await runCli(env, ['retry', jobId, '--wait', '--json']);
  expect(retried.code, retried.stderr).toBe(0);
  const doc = jsonOf<RetryDocument>(retried);
  expect(doc.retried).toEqual([
    { id: jobId, name: 'dump', target: 'late', failedReason: expect.stringMatching(/^PG_DATABASE_MISSING/) },
  ]);
  expect(doc.results[0]).toMatchObject({
    jobId,
    ok: true,
    failure: null,
    chain: { ok: true, verify: { level: 'read', ok: true } },
  });
  expect(await fixture.verifiedBackups('late')).toEqual([doc.results[0]!.chain?.backupId]);

  // The other failed dump is answered by that new verified backup: --all-failed leaves it.
  const all = await runCli(env, ['retry', '--all-failed', '--target', 'late', '--json']);
  expect(all.code, all.stderr).toBe(0);
  const allDoc = jsonOf<RetryDocument>(all);
  expect(allDoc.retried).toEqual([]);
  expect(allDoc.skipped).toEqual([
    expect.objectContaining({
      id: newerId,
      reason: `answered since: backup ${doc.results[0]!.chain?.backupId} was verified after it failed; nothing to retry`,
    }),
  ]);
  const none = await runCli(env, ['retry', '--all-failed']);
  expect(none.code).toBe(0);
  expect(none.stdout).toMatch(/no failed jobs to retry/);

  const healthy = await runCli(env, ['status', '--json']);
  expect(healthy.code, healthy.stdout).toBe(0);
  expect(jsonOf<StatusDocument>(healthy).targets[0]).toMatchObject({
    ok: true,
    stale: false,
    failing: false,
  });
});
