import { enqueueDump, parseJobResult } from '@pgbackup/queue';
import { createTestDatabase, useCleanups } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { operator } from './support/config.js';
import { request } from './support/http.js';
import { startBackupStack } from './support/stack.js';

const onClose = useCleanups();

it('reports a real dump, once verified, in /metrics', async () => {
  const db = await createTestDatabase('metrics');
  await db.query('CREATE TABLE orders (id serial PRIMARY KEY, note text)');
  await db.query("INSERT INTO orders (note) SELECT 'order ' || n FROM generate_series(1, 500) AS n");
  const stack = await startBackupStack({ DATABASE_URL: db.url, BACKUP_TARGET_NAME: 'app' });
  onClose(() => stack.close());

  const job = await enqueueDump(stack.queue, { target: 'app' });
  await stack.waitForJob(job.id!, 'completed');
  const manifest = await stack.waitForVerifiedBackup('app');
  // The manifest records the verification before its job returns: wait for the job itself too,
  // or the queue may still count it active.
  const dumped = parseJobResult('dump', job.id, (await stack.queue.getJob(job.id!))?.returnvalue);
  await stack.waitForJob(dumped.verifyJobId!, 'completed');
  expect(manifest.jobId).toBe(job.id);

  const response = await request(new URL('metrics', stack.dashboard.url).toString(), { as: operator });
  expect(response.status).toBe(200);
  const text = await response.text();
  const value = (series: string) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  expect(value('pgbackup_last_verified_timestamp_seconds{target="app"}')).toBe(
    Date.parse(manifest.createdAt) / 1000,
  );
  expect(value('pgbackup_last_success_timestamp_seconds{target="app"}')).toBe(
    Date.parse(manifest.completedAt) / 1000,
  );
  expect(value('pgbackup_last_backup_size_bytes{target="app"}')).toBe(manifest.sizeBytes);
  expect(manifest.sizeBytes).toBeGreaterThan(0);
  expect(value('pgbackup_last_backup_duration_seconds{target="app"}')).toBe(manifest.durationMs / 1000);
  expect(value('pgbackup_backups{target="app",state="verified"}')).toBe(1);
  expect(value('pgbackup_backups{target="app",state="failed"}')).toBe(0);
  expect(value('pgbackup_stale{target="app"}')).toBe(0);
  expect(value('pgbackup_queue_jobs{state="completed"}')).toBeGreaterThanOrEqual(2); // the dump and its verify
  expect(value('pgbackup_queue_jobs{state="failed"}')).toBe(0);
  expect(text).not.toContain('pgbackup_job_failures{');
  expect(value('pgbackup_redis_up')).toBe(1);
});
