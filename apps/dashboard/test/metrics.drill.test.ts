import { listBackups } from '@pgbackup/backup-core';
import { useCleanups } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { operator } from './support/config.js';
import { ordersDatabase, useDrillServer } from './support/drill-fixture.js';
import { request } from './support/http.js';
import { startBackupStack } from './support/stack.js';

const onClose = useCleanups();
const drillServerUrl = useDrillServer();

it('reports a real drill in /metrics: last success, duration (RTO), RPO and the max RTO', async () => {
  const db = await ordersDatabase('metrics_drill', 800);
  const stack = await startBackupStack({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_DRILL_DATABASE_URL: drillServerUrl(),
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

  await stack.backUp('app');
  // No drill yet: no drill series for the target.
  const before = await scrape();
  expect(before('pgbackup_drill_last_success_timestamp_seconds{target="app"}')).toBeUndefined();
  expect(before('pgbackup_drill_max_rto_seconds')).toBe(1800);

  const result = await stack.drill('app');
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
