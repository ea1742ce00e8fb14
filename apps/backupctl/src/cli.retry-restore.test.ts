import { enqueueDump, enqueueRestore } from '@pgbackup/queue';
import { createTestDatabase, withDatabase } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RetryDocument } from './commands/retry.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

let fixture: WorkerFixture;
let restoreId: string;
let dumpId: string;
// A well-formed id with no backup behind it: the restore fails (BACKUP_NOT_FOUND) before touching PostgreSQL.
const backupId = '20261125T020000123Z-gone-1a2b3c';

beforeAll(async () => {
  const db = await createTestDatabase('norestore');
  // The target's database does not exist: its dump fails too, and is a job --all-failed retries.
  fixture = await workerFixture({
    DATABASE_URL: withDatabase(db.url, `${db.name}_missing`),
    BACKUP_TARGET_NAME: 'gone',
    BACKUP_ATTEMPTS: '1',
  });
  await fixture.start();
  const restore = await enqueueRestore(fixture.queue, { backupId, database: 'app_copy', force: true });
  const dump = await enqueueDump(fixture.queue, { target: 'gone' });
  expect(await fixture.finished(restore)).toBe('failed');
  expect(await fixture.finished(dump)).toBe('failed');
  restoreId = restore.id!;
  dumpId = dump.id!;
  // No worker from here on: a retried job would wait, so the states below are the CLI's doing alone.
  await Promise.all(fixture.services.map((service) => service.close({ force: true })));
});

afterAll(async () => {
  await fixture?.cleanup();
});

it('refuses to retry a restore job by id, saying why and what to run instead', async () => {
  for (const ids of [[restoreId], [dumpId, restoreId]]) {
    const result = await runCli(fixture.env, ['retry', ...ids]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `RESTORE_NOT_RETRIABLE: job ${restoreId} is a restore \\(backup ${backupId} into database app_copy, with force\\), and a restore runs at most once.*nothing was retried`,
      ),
    );
    expect(result.stderr).toContain(`backupctl restore ${backupId} --to app_copy --wait`);
    expect(await fixture.queue.getJobState(restoreId)).toBe('failed');
    // Nothing was retried: not even the dump named beside it.
    expect(await fixture.queue.getJobState(dumpId)).toBe('failed');
  }
  const json = await runCli(fixture.env, ['retry', restoreId, '--json']);
  expect(json.code).toBe(2);
  expect(json.stderr).toMatch(/RESTORE_NOT_RETRIABLE/);
});

it('--all-failed retries the others and skips and lists restore jobs, in text and JSON', async () => {
  const text = await runCli(fixture.env, ['retry', '--all-failed', '--target', 'gone']);
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout).toMatch(
    new RegExp(
      `^skipped restore job ${restoreId} \\(backup ${backupId} into database app_copy, with force\\), which had failed with: BACKUP_NOT_FOUND: .*a restore is never retried: to restore again, run \`backupctl restore ${backupId} --to app_copy --wait\`$`,
      'm',
    ),
  );
  expect(text.stdout).toMatch(new RegExp(`^retried job ${dumpId} \\(dump gone\\)`, 'm'));
  expect(await fixture.queue.getJobState(restoreId)).toBe('failed');
  expect(await fixture.queue.getJobState(dumpId)).toBe('waiting');

  // The dump is waiting now, so only the restore is failed: nothing to retry, and it is still listed.
  const json = await runCli(fixture.env, ['retry', '--all-failed', '--json']);
  expect(json.code, json.stderr).toBe(0);
  const doc = jsonOf<RetryDocument>(json);
  expect(doc.retried).toEqual([]);
  expect(doc.skipped).toEqual([
    {
      id: restoreId,
      name: 'restore',
      target: 'gone',
      failedReason: expect.stringMatching(/^BACKUP_NOT_FOUND: /),
      reason: expect.stringMatching(/a restore runs at most once/),
      instead: `backupctl restore ${backupId} --to app_copy --wait`,
    },
  ]);
  expect(await fixture.queue.getJobState(restoreId)).toBe('failed');
  const none = await runCli(fixture.env, ['retry', '--all-failed']);
  expect(none.stdout).toMatch(/^no failed jobs to retry$/m);
});
