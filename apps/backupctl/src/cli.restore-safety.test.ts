import { jobNames } from '@pgbackup/queue';
import {
  type ConnectionRecorder,
  connectionRecorder,
  createTestDatabase,
  freePort,
  type TestDatabase,
} from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DumpDocument } from './commands/dump.js';
import type { RestoreDocument } from './commands/restore.js';
import { rowCount } from './test-support/row-count.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// A restore database name reaches the engine three ways: backupctl restore --direct, backupctl
// restore (a queued job), and a job written straight into Redis (Bull Board's add/edit). Each
// entry point refuses a name that libpq could read as connection settings, before any restore
// starts, and the recorder sees no connection from any of them.
let fixture: WorkerFixture;
let db: TestDatabase;
let env: Record<string, string>;
let recorder: ConnectionRecorder;
let backupId: string;

beforeAll(async () => {
  recorder = await connectionRecorder();
  db = await createTestDatabase('clisafe');
  await db.query('CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 300) g');
  fixture = await workerFixture({ DATABASE_URL: db.url, BACKUP_TARGET_NAME: 'app' });
  env = fixture.env;
  await fixture.start();
  const dump = await runCli(env, ['dump', '--wait', '--json']);
  expect(dump.code, dump.stderr).toBe(0);
  backupId = jsonOf<DumpDocument>(dump).results[0]!.backupId!;
});

afterAll(async () => {
  await fixture?.cleanup();
  await recorder?.close();
});

function hostileNames(): string[] {
  const port = recorder.port;
  return [
    `host=127.0.0.1 port=${port} dbname=x`,
    `dbname=postgres://127.0.0.1:${port}/x`,
    'two words',
    "quo'te",
    'back\\slash',
    'ünïcödé',
  ];
}

async function restoreJobs(): Promise<number> {
  const jobs = await fixture.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
  return jobs.filter((job) => job.name === jobNames.restore).length;
}

describe('backupctl restore refuses database names libpq could read as connection settings', () => {
  // 18 backupctl processes one after the other: minutes on a two-core machine that runs other suites.
  it('--direct, queued, and inside a URL: exit 2 RESTORE_DATABASE_INVALID, no job, no connection', {
    timeout: 360_000,
  }, async () => {
    const { host, port, user } = fixture.config.targets[0]!.connection;
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const outcomes: string[] = [];
    for (const name of hostileNames()) {
      const asUrl = `postgresql://${user}@${host}:${port}/${encodeURIComponent(name)}`;
      for (const [mode, args, runEnv] of [
        ['--direct', ['--to', name, '--direct'], { ...env, REDIS_URL: deadRedis }],
        ['queued', ['--to', name, '--wait'], env],
        ['url --direct', ['--to', asUrl, '--direct'], { ...env, REDIS_URL: deadRedis }],
      ] as const) {
        const result = await runCli(runEnv, ['restore', backupId, ...args, '--force']);
        const refused =
          result.code === 2 &&
          result.stderr.includes('RESTORE_DATABASE_INVALID') &&
          result.stderr.includes('a plain database name: letters, digits, _ and $');
        outcomes.push(
          `${mode} ${JSON.stringify(name)}: ${refused ? 'refused' : `exit ${result.code} ${result.stderr}`}`,
        );
      }
    }
    expect(recorder.connections()).toBe(0);
    expect(outcomes.filter((o) => !o.endsWith(': refused'))).toEqual([]);
    expect(await restoreJobs()).toBe(0);
  });

  it('a restore job written straight into Redis fails with JOB_DATA_INVALID before it runs', async () => {
    for (const database of hostileNames()) {
      const job = await fixture.queue.add(
        jobNames.restore,
        { backupId, database, force: true },
        { attempts: 1 },
      );
      expect(await fixture.finished(job)).toBe('failed');
      const failed = await fixture.queue.getJob(job.id!);
      expect(failed?.failedReason).toMatch(
        /^JOB_DATA_INVALID: invalid restore job data: database: a plain database name: letters, digits, _ and \$/,
      );
    }
    expect(recorder.connections()).toBe(0);
  });

  it('refuses template1 as a destination (exit 2)', async () => {
    const result = await runCli({ ...env }, [
      'restore',
      backupId,
      '--to',
      'template1',
      '--force',
      '--direct',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/RESTORE_DATABASE_INVALID: restore database template1 is refused/);
  });
});

describe("replacing a configured target's own database needs --confirm <target>", () => {
  it('is refused without --confirm (direct: exit 2; queued: the job fails), data untouched', async () => {
    const direct = await runCli(env, ['restore', backupId, '--to', db.name, '--force', '--direct']);
    expect(direct.code).toBe(2);
    expect(direct.stderr).toMatch(/RESTORE_CONFIRM_REQUIRED: .*target app backs up.*--confirm app/);
    const wrong = await runCli(env, [
      'restore',
      backupId,
      '--to',
      db.name,
      '--force',
      '--confirm',
      'ap',
      '--wait',
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(
      /FAILED\s+restore .*RESTORE_CONFIRM_REQUIRED: .*--confirm "ap" does not name it/,
    );
    expect(await rowCount(fixture, db.name)).toBe(300);
  });

  it('is replaced with --confirm app --force, through the queue', async () => {
    await db.query('DELETE FROM t WHERE id > 100');
    const result = await runCli(env, [
      'restore',
      backupId,
      '--to',
      db.name,
      '--force',
      '--confirm',
      'app',
      '--wait',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(jsonOf<RestoreDocument>(result)).toMatchObject({
      state: 'completed',
      result: { database: db.name, replacedExisting: true, safetyBackupId: expect.any(String) },
    });
    expect(await rowCount(fixture, db.name)).toBe(300);
  });
});
