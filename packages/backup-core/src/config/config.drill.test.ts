import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configWorkspace, problemsOf } from '../test-support/config-workspace.js';
import { loadConfig } from './index.js';

const workspace = configWorkspace('drill', { DATABASE_URL: 'postgresql://app@127.0.0.1:5432/shop' });
const load = workspace.load;

describe('drill settings', () => {
  it('has no drill server, a weekly schedule, a budget of one and no max RTO by default', () => {
    const config = load({});
    expect(config.targets[0]?.drill).toEqual({ schedule: '0 4 * * 0' });
    expect(config.drill).toEqual({ concurrency: 1, allowTargetServer: false });
  });

  it('reads the drill server, its maintenance database defaulting to postgres, and the fleet settings', () => {
    const config = load({
      BACKUP_DRILL_DATABASE_URL: 'postgresql://drill:s3cret@drills.internal:6432',
      BACKUP_DRILL_SCHEDULE: '30 3 * * 6',
      BACKUP_DRILL_CONCURRENCY: '2',
      BACKUP_DRILL_MAX_RTO: '45m',
      BACKUP_DRILL_ALLOW_TARGET_SERVER: 'yes',
    });
    expect(config.targets[0]?.drill).toEqual({
      server: {
        host: 'drills.internal',
        port: 6432,
        user: 'drill',
        password: 's3cret',
        database: 'postgres',
      },
      schedule: '30 3 * * 6',
    });
    expect(config.drill).toEqual({ concurrency: 2, maxRtoMs: 45 * 60_000, allowTargetServer: true });
  });

  it('takes a target’s own drill server and schedule from the config file over the variables', async () => {
    const file = path.join(workspace.dir, 'drill.yaml');
    await writeFile(
      file,
      [
        'targets:',
        '  - name: shop',
        '    url: postgresql://app@127.0.0.1:5432/shop',
        '    drill: postgresql://postgres@127.0.0.1:7432/maint',
        "    drillSchedule: '0 5 1 * *'",
        '  - name: crm',
        '    url: postgresql://app@127.0.0.1:5432/crm',
      ].join('\n'),
    );
    const config = loadConfig({
      env: { BACKUP_CONFIG: file, BACKUP_DRILL_DATABASE_URL: 'postgresql://postgres@127.0.0.1:8432' },
      cwd: workspace.dir,
    });
    expect(
      config.targets.map((t) => [t.name, t.drill.server?.port, t.drill.server?.database, t.drill.schedule]),
    ).toEqual([
      ['shop', 7432, 'maint', '0 5 1 * *'],
      ['crm', 8432, 'postgres', '0 4 * * 0'],
    ]);
  });

  it('restores with as many pg_restore jobs as cores by default, or BACKUP_RESTORE_JOBS', () => {
    expect(load({}).restoreJobs).toBe(Math.min(64, availableParallelism()));
    expect(load({ BACKUP_RESTORE_JOBS: '3' }).restoreJobs).toBe(3);
    expect(problemsOf(() => load({ BACKUP_RESTORE_JOBS: '0' }))).toContain('BACKUP_RESTORE_JOBS');
  });

  it('names each bad drill variable, hiding the password', () => {
    const message = problemsOf(() =>
      load({
        BACKUP_DRILL_DATABASE_URL: 'mysql://root:hunter2@db/x',
        BACKUP_DRILL_CONCURRENCY: '0',
        BACKUP_DRILL_MAX_RTO: 'soon',
        BACKUP_DRILL_SCHEDULE: 'weekly',
      }),
    );
    expect(message).toContain('BACKUP_DRILL_DATABASE_URL');
    expect(message).not.toContain('hunter2');
    expect(message).toContain('BACKUP_DRILL_CONCURRENCY');
    expect(message).toContain('BACKUP_DRILL_MAX_RTO');
    expect(message).toContain('BACKUP_DRILL_SCHEDULE');
  });
});
