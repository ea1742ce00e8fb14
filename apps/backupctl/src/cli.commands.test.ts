import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createTestDatabase, freePort, type TestDatabase } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorDocument } from './action.js';
import type { BackupsDocument } from './commands/backups.js';
import type { DumpDocument } from './commands/dump.js';
import type { JobsDocument } from './commands/jobs.js';
import type { PruneDocument } from './commands/prune.js';
import type { RestoreDocument } from './commands/restore.js';
import type { SchedulesDocument } from './commands/schedules.js';
import type { StatusDocument } from './commands/status.js';
import type { VerifyDocument } from './commands/verify.js';
import { buildProgram } from './program.js';
import { rowCount } from './test-support/row-count.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// One fixture for the file: a target `app`, a worker running in-process, and the CLI as a
// process against the same Redis prefix and backup directory. Tests build on each other's
// backups, in order.
let fixture: WorkerFixture;
let db: TestDatabase;
let env: Record<string, string>;
let deadRedis: string;
const backupIds: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase('cli');
  await db.query('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g');
  fixture = await workerFixture({ DATABASE_URL: db.url, BACKUP_TARGET_NAME: 'app' });
  env = fixture.env;
  deadRedis = `redis://127.0.0.1:${await freePort()}`;
  await fixture.start();
});

afterAll(async () => {
  await fixture?.cleanup();
});

/** Every file of the target's directory with its content: "unchanged" means equal snapshots. */
async function snapshot(): Promise<Record<string, string>> {
  const dir = path.join(fixture.config.backupDir, 'app');
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    files[name] = name.endsWith('.json')
      ? await readFile(path.join(dir, name), 'utf8')
      : String((await readFile(path.join(dir, name))).length);
  }
  return files;
}

describe('dump', () => {
  it('--wait --json follows the dump, its verification and the prune, and exits 0 once verified', async () => {
    const result = await runCli(env, ['dump', '--wait', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = jsonOf<DumpDocument>(result);
    expect(doc.jobs).toEqual([{ id: expect.any(String), target: 'app', joined: false }]);
    const [chain] = doc.results;
    expect(chain).toMatchObject({ ok: true, target: 'app', dumpJobId: doc.jobs[0]!.id, failure: null });
    expect(chain!.backupId).toMatch(/^\d{8}T\d{9}Z-app-[0-9a-f]{6}$/);
    expect(chain!.dump).toMatchObject({
      backupId: chain!.backupId,
      sizeBytes: expect.any(Number),
      reused: false,
    });
    expect(chain!.verify).toMatchObject({ backupId: chain!.backupId, level: 'read', ok: true });
    expect(chain!.prune).toMatchObject({ target: 'app', dryRun: false, deleted: [] });
    backupIds.unshift(chain!.backupId!);
  });

  it('--wait without a terminal prints plain progress lines on stderr and a summary on stdout', async () => {
    const result = await runCli(env, ['dump', '--target', 'app', '--wait']);
    expect(result.code, result.stderr).toBe(0);
    // Not a terminal: no carriage returns or escape sequences, one line per phase.
    expect(result.stderr).not.toContain('\r');
    expect(result.stderr).not.toContain('\u001b[');
    const lines = result.stderr.split('\n');
    expect(
      lines.some((line) => /^dump app\s+(waiting|starting|connecting|dumping|finishing|done)/.test(line)),
    ).toBe(true);
    expect(lines.some((line) => /^verify app: backup \S+ verified \(read\)/.test(line))).toBe(true);
    const summary =
      /^OK\s+(\S+-app-[0-9a-f]{6})\s+app\s+.*verified \(read\); prune kept \d+, deleted 0$/m.exec(
        result.stdout,
      );
    expect(summary, result.stdout).not.toBeNull();
    backupIds.unshift(summary![1]!);
  });
});

describe('backups', () => {
  it('--json lists the catalog from the manifests, newest first', async () => {
    const result = await runCli(env, ['backups', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = jsonOf<BackupsDocument>(result);
    expect(doc.problems).toEqual([]);
    expect(doc.backups.map((b) => b.id)).toEqual(backupIds);
    for (const backup of doc.backups) {
      expect(backup).toMatchObject({
        target: 'app',
        database: db.name,
        compression: 'zstd',
        encrypted: false,
        status: 'complete',
        sizeBytes: expect.any(Number),
        verification: { state: 'verified', level: 'read', at: expect.any(String) },
      });
    }
    const human = await runCli(env, ['backups', '--target', 'app']);
    expect(human.stdout).toMatch(/^ID\s+TARGET\s+CREATED\s+SIZE\s+COMPRESSION\s+ENCRYPTED\s+VERIFIED/);
    expect(human.stdout).toContain(`${backupIds[0]}  app`);
    expect(human.stdout).toMatch(/read ok/);
  });

  it('suggests the closest target for a misspelt --target', async () => {
    const result = await runCli(env, ['backups', '--target', 'apq']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/TARGET_UNKNOWN: .*Did you mean "app"\?/);
  });
});

describe('verify', () => {
  it('--level checksum --wait --json verifies again and records it', async () => {
    const result = await runCli(env, ['verify', backupIds[1]!, '--level', 'checksum', '--wait', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = jsonOf<VerifyDocument>(result);
    expect(doc).toMatchObject({
      state: 'completed',
      failure: null,
      result: { backupId: backupIds[1], level: 'checksum', ok: true },
    });
    const manifest = JSON.parse(
      await readFile(path.join(fixture.config.backupDir, 'app', `${backupIds[1]}.manifest.json`), 'utf8'),
    );
    expect(manifest.verifications.at(-1)).toMatchObject({ level: 'checksum', ok: true });
  });

  it('an unknown backup id is a usage error that suggests the closest ids of the target', async () => {
    const id = backupIds[0]!;
    const typo = `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`;
    const result = await runCli(env, ['verify', typo]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('BACKUP_NOT_FOUND');
    expect(result.stderr).toContain(`Did you mean ${id}`);
    const invalid = await runCli(env, ['verify', 'yesterday', '--json']);
    expect(invalid.code).toBe(2);
    expect(jsonOf<ErrorDocument>(invalid).error).toMatchObject({
      code: 'BACKUP_ID_INVALID',
      exitCode: 2,
      hint: expect.stringContaining('Did you mean'),
    });
  });
});

describe('prune', () => {
  it('--dry-run prints the plan, deletes nothing and works with Redis down', async () => {
    const before = await snapshot();
    // A policy that keeps only the newest: the plan must delete the older backup, yet nothing may change.
    const result = await runCli(
      { ...env, REDIS_URL: deadRedis, BACKUP_RETENTION: 'daily=1,weekly=0,monthly=0,min=1' },
      ['prune', '--dry-run', '--json'],
    );
    expect(result.code, result.stderr).toBe(0);
    const doc = jsonOf<PruneDocument>(result);
    expect(doc.dryRun).toBe(true);
    expect(doc.results).toHaveLength(1);
    expect(doc.results[0]).toMatchObject({
      target: 'app',
      dryRun: true,
      kept: 1,
      deleted: [],
      wouldDelete: [backupIds[1]],
    });
    expect(doc.results[0]!.decisions).toEqual([
      {
        id: backupIds[0],
        createdAt: expect.any(String),
        action: 'keep',
        reasons: expect.arrayContaining(['newest verified backup']),
      },
      {
        id: backupIds[1],
        createdAt: expect.any(String),
        action: 'delete',
        reasons: ['verified, fills no retention slot'],
      },
    ]);
    const human = await runCli({ ...env, BACKUP_RETENTION: 'daily=1,weekly=0,monthly=0,min=1' }, [
      'prune',
      '--dry-run',
    ]);
    expect(human.stdout).toMatch(/app: keep 1, would delete 1 \(dry run: nothing was changed\)/);
    expect(human.stdout).toMatch(new RegExp(`delete\\s+${backupIds[1]}.*fills no retention slot`));
    expect(await snapshot()).toEqual(before);
  });

  it('--wait --json runs a prune job under the configured policy', async () => {
    const result = await runCli(env, ['prune', '--wait', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = jsonOf<PruneDocument>(result);
    expect(doc).toMatchObject({ dryRun: false, failures: [] });
    expect(doc.jobs).toEqual([{ id: expect.any(String), target: 'app' }]);
    expect(doc.results[0]).toMatchObject({ target: 'app', dryRun: false, kept: 2, deleted: [] });
  });
});

describe('jobs, schedules, status', () => {
  it('jobs --json lists jobs with state, attempts and target; --limit bounds the list', async () => {
    const result = await runCli(env, ['jobs', '--state', 'completed', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { jobs } = jsonOf<JobsDocument>(result);
    const dumps = jobs.filter((job) => job.name === 'dump');
    expect(dumps).toHaveLength(2);
    for (const job of dumps) {
      expect(job).toMatchObject({
        target: 'app',
        state: 'completed',
        origin: 'manual',
        attemptsMade: 1,
        attempts: 3,
        failedReason: null,
      });
      expect(backupIds).toContain((job.returnvalue as { backupId: string }).backupId);
    }
    expect(jobs.map((job) => job.name)).toEqual(expect.arrayContaining(['dump', 'verify', 'prune']));
    const limited = jsonOf<JobsDocument>(await runCli(env, ['jobs', '--limit', '2', '--json']));
    expect(limited.jobs).toHaveLength(2);
    const bad = await runCli(env, ['jobs', '--limit', 'many']);
    expect(bad.code).toBe(2);
  });

  it('schedules --json gives the cron, zone and next 3 runs; a target without scheduler is flagged', async () => {
    const result = await runCli(env, ['schedules', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = jsonOf<SchedulesDocument>(result);
    expect(doc.orphanSchedulers).toEqual([]);
    const [row] = doc.schedules;
    expect(row).toMatchObject({
      target: 'app',
      schedule: '0 2 * * *',
      timeZone: 'UTC',
      inSync: true,
      scheduler: { id: 'dump:app' },
    });
    expect(row!.nextRuns).toHaveLength(3);
    expect(row!.nextRuns[0]).toBe(row!.scheduler?.next);
    for (const run of row!.nextRuns) expect(new Date(run).getUTCHours()).toBe(2);
    // Another prefix: a queue no worker ever started on.
    const bare = await runCli({ ...env, BACKUP_QUEUE_PREFIX: `${env.BACKUP_QUEUE_PREFIX}-none` }, [
      'schedules',
    ]);
    expect(bare.code).toBe(1);
    expect(bare.stdout).toMatch(/app\s+0 2 \* \* \*\s+UTC\s+.*MISSING/);
    expect(bare.stderr).toMatch(/no scheduler in Redis for app/);
  });

  it('status --json exits 0 while the target has a fresh verified backup and no failure', async () => {
    const result = await runCli(env, ['status', '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const doc = jsonOf<StatusDocument>(result);
    expect(doc).toMatchObject({ ok: true, redis: { reachable: true } });
    expect(doc.targets[0]).toMatchObject({
      target: 'app',
      ok: true,
      stale: false,
      failing: false,
      lastBackup: { id: backupIds[0] },
      lastVerified: { id: backupIds[0], level: 'read' },
      nextRunSource: 'scheduler',
      schedule: 'ok',
      failedJobs: { count: 0, newest: null },
    });
    expect(doc.workers).toBe(1);
  });

  it('status exits 1 when no scheduled run would happen: no worker connected, no scheduler in Redis', async () => {
    // Another prefix: the same fresh verified backup on disk, but a queue no worker runs.
    const bare = { ...env, BACKUP_QUEUE_PREFIX: `${env.BACKUP_QUEUE_PREFIX}-none` };
    const result = await runCli(bare, ['status', '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    const doc = jsonOf<StatusDocument>(result);
    expect(doc).toMatchObject({ ok: false, workers: 0, redis: { reachable: true } });
    expect(doc.targets[0]).toMatchObject({
      target: 'app',
      ok: false,
      stale: false,
      failing: false,
      schedule: 'missing',
      nextRunSource: 'config',
      lastVerified: { id: backupIds[0] },
    });
    const text = await runCli(bare, ['status']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^app\s+NO SCHEDULE\s/m);
    expect(text.stdout).toContain(
      'app: SCHEDULE MISSING: no job scheduler in Redis, so no scheduled backup will run',
    );
    expect(text.stdout).toMatch(/workers: NONE: no worker is connected to queue backups \(prefix \S+-none\)/);
  });
});

describe('restore', () => {
  it('--to NAME --wait --json restores into a new database on the target server', async () => {
    const database = `${db.name}_copy`;
    const result = await runCli(env, ['restore', backupIds[0]!, '--to', database, '--wait', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(jsonOf<RestoreDocument>(result)).toMatchObject({
      mode: 'queue',
      state: 'completed',
      result: { backupId: backupIds[0], database, serverTarget: 'app', replacedExisting: false },
      failure: null,
    });
    expect(await rowCount(fixture, database)).toBe(2000);
  });

  it('refuses a URL with a password, and a server that no target is on (exit 2)', async () => {
    const { host, port } = fixture.config.targets[0]!.connection;
    const withPassword = await runCli(env, [
      'restore',
      backupIds[0]!,
      '--to',
      `postgresql://postgres:secret@${host}:${port}/x`,
    ]);
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr).toMatch(/PASSWORD_IN_URL: .*never holds passwords/);
    expect(withPassword.stderr).toMatch(/hint: Configure the credentials of a target/);
    expect(withPassword.stderr).not.toContain('secret');
    const elsewhere = await runCli(env, [
      'restore',
      backupIds[0]!,
      '--to',
      'postgresql://db.example.invalid:5432/x',
    ]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/SERVER_UNKNOWN: no configured target is on db\.example\.invalid:5432/);
  });

  it('--direct restores from the files alone, with Redis down, to a URL on the target server', async () => {
    const { host, port, user } = fixture.config.targets[0]!.connection;
    const database = `${db.name}_direct`;
    const result = await runCli({ ...env, REDIS_URL: deadRedis }, [
      'restore',
      backupIds[1]!,
      '--to',
      `postgresql://${user}@${host}:${port}/${database}`,
      '--direct',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(jsonOf<RestoreDocument>(result)).toMatchObject({
      mode: 'direct',
      job: null,
      state: 'completed',
      result: { backupId: backupIds[1], database, serverTarget: 'app' },
    });
    expect(await rowCount(fixture, database)).toBe(2000);
  });
});

describe('Redis unreachable', () => {
  it('backups still lists; jobs and status exit 3 naming the URL (without password); status still shows the manifests', async () => {
    const down = { ...env, REDIS_URL: deadRedis.replace('redis://', 'redis://ops:hunter2@') };
    const backups = await runCli(down, ['backups', '--json']);
    expect(backups.code, backups.stderr).toBe(0);
    expect(jsonOf<BackupsDocument>(backups).backups).toHaveLength(2);

    const jobs = await runCli(down, ['jobs']);
    expect(jobs.code).toBe(3);
    expect(jobs.stderr).toContain(
      `REDIS_UNREACHABLE: cannot reach Redis at ${deadRedis.replace('redis://', 'redis://ops:***@')}`,
    );
    expect(jobs.stderr).not.toContain('hunter2');

    const status = await runCli(down, ['status', '--json']);
    expect(status.code).toBe(3);
    const doc = jsonOf<StatusDocument>(status);
    expect(doc.redis.reachable).toBe(false);
    expect(doc.targets[0]).toMatchObject({
      target: 'app',
      stale: false,
      failing: null,
      failedJobs: null,
      lastVerified: { id: backupIds[0] },
    });
  });
});

describe('usage and configuration errors exit 2', () => {
  it('unknown commands and flags get a suggestion', async () => {
    const command = await runCli(env, ['dupm']);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command 'dupm'[\s\S]*Did you mean dump\?/);
    const flag = await runCli(env, ['backups', '--traget', 'app']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--traget'[\s\S]*Did you mean --target\?/);
    const choice = await runCli(env, ['jobs', '--state', 'broken', '--json']);
    expect(choice.code).toBe(2);
    expect(jsonOf<ErrorDocument>(choice).error).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect(choice.stderr).toMatch(/Allowed choices are failed, active, waiting, delayed, completed/);
  });

  it('a bad configuration names the variable, or the flag it came from', async () => {
    const variable = await runCli({ ...env, BACKUP_CONCURRENCY: 'lots' }, ['backups']);
    expect(variable.code).toBe(2);
    expect(variable.stderr).toMatch(/CONFIG_INVALID[\s\S]*BACKUP_CONCURRENCY="lots"/);
    const flag = await runCli(env, ['--redis-url', 'nowhere', 'jobs']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--redis-url \(REDIS_URL\)="nowhere"/);
  });

  it('--help documents exit codes and gives each command an example', async () => {
    const root = await runCli(env, ['--help']);
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/Exit status:[\s\S]*3\s+Redis or PostgreSQL unreachable/);
    const restore = await runCli(env, ['restore', '--help']);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/--to <database\|url>[\s\S]*Global Options:[\s\S]*--redis-url/);
    // Every command's help, in-process: one process per command would only measure Node's start-up.
    const program = buildProgram();
    const names = program.commands.map((command) => command.name());
    expect(names).toEqual([
      'dump',
      'verify',
      'copy',
      'prune',
      'restore',
      'drill',
      'restore-globals',
      'backups',
      'jobs',
      'retry',
      'schedules',
      'status',
    ]);
    for (const command of program.commands) {
      let help = '';
      command.configureOutput({ writeOut: (text) => (help += text) });
      command.outputHelp();
      expect(help).toMatch(new RegExp(`Examples:\\n  backupctl ${command.name()}`));
    }
  });
});
