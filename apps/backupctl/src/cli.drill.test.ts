import { findBackup } from '@pgbackup/backup-core';
import { createTestDatabase, PostgresServer } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorDocument } from './action.js';
import type { DrillDocument } from './commands/drill.js';
import type { DumpDocument } from './commands/dump.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// A target `app` with a drill server of its own (a second private cluster), a worker in-process,
// and the CLI as a process against the same Redis prefix and backup directory.
let drillServer: PostgresServer;
let fixture: WorkerFixture;
let env: Record<string, string>;

beforeAll(async () => {
  drillServer = await PostgresServer.start();
  const db = await createTestDatabase('cli_drill');
  await db.query('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1500) g');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_DRILL_DATABASE_URL: drillServer.url('postgres'),
  });
  env = fixture.env;
  await fixture.start();
}, 120_000);

afterAll(async () => {
  await fixture?.cleanup();
  await drillServer?.destroy();
});

describe('drill', () => {
  it('--wait --json drills the newest verified backup and reports its RTO and RPO', async () => {
    const dumped = await runCli(env, ['dump', '--wait', '--json']);
    expect(dumped.code, dumped.stderr).toBe(0);
    const backupId = jsonOf<DumpDocument>(dumped).results[0]!.backupId!;

    const result = await runCli(env, ['drill', '--target', 'app', '--wait', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = jsonOf<DrillDocument>(result);
    expect(doc.jobs).toEqual([{ id: expect.any(String), target: 'app', joined: false }]);
    expect(doc.results[0]).toMatchObject({
      target: 'app',
      state: 'completed',
      failure: null,
      result: { backupId, ok: true, tables: 1, server: `127.0.0.1:${drillServer.port}`, rtoExceeded: false },
    });
    const { manifest } = await findBackup(fixture.config.backupDir, backupId);
    expect(manifest.drills?.map((d) => d.restoreMs)).toEqual([doc.results[0]!.result!.restoreMs]);

    const human = await runCli(env, ['drill', '--all', '--wait']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(
        `^OK\\s+app\\s+${backupId} restored on 127\\.0\\.0\\.1:\\d+ \\(wal_level replica\\) in .* \\(RTO\\), backup age .* \\(RPO\\)$`,
        'm',
      ),
    );
  });

  it('refuses --target with --all, and a target without a drill server, with exit 2', async () => {
    const both = await runCli(env, ['drill', '--target', 'app', '--all', '--json']);
    expect(both.code).toBe(2);
    expect(jsonOf<ErrorDocument>(both).error.code).toBe('USAGE');

    const { BACKUP_DRILL_DATABASE_URL: _drill, ...withoutDrill } = env;
    const none = await runCli(withoutDrill, ['drill', '--json']);
    expect(none.code).toBe(2);
    const error = jsonOf<ErrorDocument>(none).error;
    expect(error.code).toBe('DRILL_SERVER_MISSING');
    expect(error.message).toContain('target app has no drill server');
  });
});
