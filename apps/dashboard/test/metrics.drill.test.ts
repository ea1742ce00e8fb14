import { listBackups } from '@pgbackup/backup-core';
import { enqueueDrill, enqueueDump } from '@pgbackup/queue';
import { createTestDatabase, PostgresServer } from '@pgbackup/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useClosers } from './support/closers.js';
import { operator } from './support/config.js';
import { request } from './support/http.js';
import { startBackupStack } from './support/stack.js';

const onClose = useClosers();
let drillServer: PostgresServer;
beforeAll(async () => {
  drillServer = await PostgresServer.start();
}, 120_000);
afterAll(async () => {
  await drillServer?.destroy();
});

it('reports a real drill in /metrics: last success, duration (RTO), RPO and the max RTO', async () => {
  const db = await createTestDatabase('metrics_drill');
  await db.query(
    'CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 800) g',
  );
  const stack = await startBackupStack({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_DRILL_DATABASE_URL: drillServer.url('postgres'),
    BACKUP_DRILL_MAX_RTO: '30m',
  });
  onClose(() => stack.close());

  const url = new URL('metrics', stack.dashboard.url).toString();
  const scrape = async () => {
    const response = await request(url, { as: operator });
    expect(response.status).toBe(200);
    const text = await response.text();
    return (series: string) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
  };

  const dump = await enqueueDump(stack.queue, { target: 'app' });
  await stack.waitForJob(dump.id!, 'completed');
  await stack.waitForVerifiedBackup('app');
  // No drill yet: no drill series for the target.
  const before = await scrape();
  expect(before('pgbackup_drill_last_success_timestamp_seconds{target="app"}')).toBeUndefined();
  expect(before('pgbackup_drill_max_rto_seconds')).toBe(1800);

  const drill = await enqueueDrill(stack.queue, { target: 'app' });
  await stack.waitForJob(drill.id!, 'completed', 120_000);
  const result = (await stack.queue.getJob(drill.id!))!.returnvalue as {
    restoreMs: number;
    backupAgeMs: number;
  };
  const { entries } = await listBackups(stack.setup.config.backupDir);
  const recorded = entries[0]!.manifest.drills!.at(-1)!;

  const value = await scrape();
  expect(value('pgbackup_drill_last_success_timestamp_seconds{target="app"}')).toBe(
    Date.parse(recorded.at) / 1000,
  );
  expect(value('pgbackup_drill_duration_seconds{target="app"}')).toBe(result.restoreMs / 1000);
  expect(value('pgbackup_drill_rpo_seconds{target="app"}')).toBe(result.backupAgeMs / 1000);
  expect(value('pgbackup_drill_last_failed{target="app"}')).toBe(0);
});
