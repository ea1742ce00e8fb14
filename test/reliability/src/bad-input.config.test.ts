import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isBackupError, loadConfig, validateCron } from '@pgbackup/backup-core';
import { harness, uniquePrefix } from '@pgbackup/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileDigests } from './support/backup-dir.js';
import { configYaml } from './support/config-file.js';
import { recordResults } from './support/results.js';
import { spawnWorkerProcess } from './support/worker-process.js';

let root: string;
let base: Record<string, string>;
const observed: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-reliability-config-'));
  // Something to leave alone: a backup directory holding a file, which no failed start may touch.
  await fs.mkdir(path.join(root, 'backups', 'app'), { recursive: true });
  await fs.writeFile(path.join(root, 'backups', 'app', 'keep.txt'), 'untouched\n');
  base = {
    DATABASE_URL: 'postgresql://backup@127.0.0.1:5432/app',
    BACKUP_TARGET_NAME: 'app',
    BACKUP_DIR: path.join(root, 'backups'),
    BACKUP_LOG_DIR: path.join(root, 'logs'),
    REDIS_URL: harness().redisUrl,
    BACKUP_QUEUE_PREFIX: uniquePrefix(),
    BACKUP_HEALTH_PORT: '0',
  };
});

afterAll(async () => {
  recordResults('bad-input-config', { cases: observed });
  await fs.rm(root, { recursive: true, force: true });
});

const longName = 'a'.repeat(100_000);

/** [variable, bad value]: each must stop loadConfig with CONFIG_INVALID naming the variable. */
const badValues: Array<[string, string]> = [
  ['BACKUP_CONCURRENCY', '0'],
  ['BACKUP_CONCURRENCY', 'four'],
  ['BACKUP_CONCURRENCY', '65'],
  ['BACKUP_CONCURRENCY', '1.5'],
  ['BACKUP_ATTEMPTS', '-3'],
  ['BACKUP_BACKOFF', 'soon'],
  ['BACKUP_BACKOFF', '-1s'],
  ['BACKUP_TIMEOUT', '0'],
  ['BACKUP_TIMEOUT', '25d'],
  ['BACKUP_STALL_TIMEOUT', '1 fortnight'],
  ['BACKUP_SHUTDOWN_TIMEOUT', 'NaN'],
  ['BACKUP_SCHEDULE', '* * *'],
  ['BACKUP_SCHEDULE', '61 * * * *'],
  ['BACKUP_SCHEDULE', '@daily'],
  ['BACKUP_SCHEDULE', 'H 2 * * *'],
  ['BACKUP_SCHEDULE', '0 2 * * * * *'],
  ['BACKUP_SCHEDULE', '*/0 * * * *'],
  ['BACKUP_SCHEDULE', '0 25 * * *'],
  ['BACKUP_SCHEDULE', '0 2 * * 8'],
  ['BACKUP_SCHEDULE', '0 2 * * *; rm -rf /'],
  ['BACKUP_TZ', 'Mars/Olympus_Mons'],
  ['BACKUP_RETENTION', 'daily=x'],
  ['BACKUP_RETENTION', 'daily=7'],
  ['BACKUP_RETENTION', 'daily=1,weekly=1,monthly=1,min=0'],
  ['BACKUP_COMPRESSION', 'lz4'],
  ['BACKUP_VERIFY', 'full'],
  ['BACKUP_MAX_AGE', '0'],
  ['BACKUP_SUSPICIOUS_RATIO', '2'],
  ['REDIS_URL', 'http://127.0.0.1:6379'],
  ['REDIS_URL', 'not a url'],
  ['BACKUP_QUEUE_PREFIX', 'a b'],
  ['BACKUP_QUEUE_PREFIX', 'x'.repeat(65)],
  ['BACKUP_HEALTH_PORT', '70000'],
  ['BACKUP_WEBHOOK_URL', 'ftp://hooks.example.com/x'],
  ['LOG_LEVEL', 'loud'],
  ['DATABASE_URL', 'mysql://root@127.0.0.1/app'],
  ['DATABASE_URL', 'postgresql://127.0.0.1:notaport/app'],
  ['BACKUP_TARGET_NAME', '../etc'],
  ['BACKUP_TARGET_NAME', 'a/b'],
  ['BACKUP_TARGET_NAME', '.hidden'],
  ['BACKUP_TARGET_NAME', longName],
  ['BACKUP_CONFIG', 'backups.toml'],
  ['BACKUP_CONFIG', '/nonexistent/backups.yaml'],
];

describe('loadConfig', () => {
  it(`refuses ${badValues.length} malformed values with CONFIG_INVALID naming the variable`, () => {
    for (const [variable, value] of badValues) {
      let error: unknown;
      try {
        loadConfig({ env: { ...base, [variable]: value }, cwd: root });
      } catch (caught) {
        error = caught;
      }
      const label = `${variable}=${JSON.stringify(value.slice(0, 40))}`;
      expect(isBackupError(error, 'CONFIG_INVALID'), `${label}: ${error}`).toBe(true);
      const message = (error as Error).message;
      expect(message, label).toContain(variable);
      observed.push({
        kind: 'loadConfig',
        variable,
        value: value.length > 60 ? `${value.slice(0, 20)}… (${value.length} characters)` : value,
        code: 'CONFIG_INVALID',
        messageLength: message.length,
        message: message.split('\n')[0]!.slice(0, 220),
      });
    }
  });

  it('refuses a config file with bad per-target values, naming each place', async () => {
    const file = path.join(root, 'bad.yaml');
    const targets = [
      { name: 'ok', url: 'postgresql://u@127.0.0.1/ok' },
      { name: 'badcron', url: 'postgresql://u@127.0.0.1/a', schedule: '0 2 * *' },
      { name: '../up', url: 'postgresql://u@127.0.0.1/b' },
      { name: 'nourl', url: 'mysql://u@127.0.0.1/c' },
      { name: 'typo', url: 'postgresql://u@127.0.0.1/d', retension: 'daily=7' },
      { name: 'a'.repeat(1 << 20), url: 'postgresql://u@127.0.0.1/e' },
    ];
    await fs.writeFile(file, configYaml({ concurrency: 'lots' }, targets as never));
    let error: unknown;
    try {
      loadConfig({ env: { BACKUP_CONFIG: file, BACKUP_DIR: base.BACKUP_DIR! }, cwd: root });
    } catch (caught) {
      error = caught;
    }
    expect(isBackupError(error, 'CONFIG_INVALID')).toBe(true);
    const message = (error as Error).message;
    for (const place of [
      'concurrency',
      'targets[1].schedule',
      'targets[2].name',
      'targets[3].url',
      'targets[4].retension',
      'targets[5].name',
    ]) {
      expect(message).toContain(place);
    }
    // The 1 MiB name is named and cut, not echoed.
    expect(message.length).toBeLessThan(4_000);
    observed.push({
      kind: 'config file',
      problems: message.split('\n').length,
      messageLength: message.length,
      lines: message.split('\n').map((line) => line.slice(0, 160)),
    });
  });

  it('validateCron refuses bad expressions and zones', () => {
    for (const [cron, zone] of [
      ['* * *', 'UTC'],
      ['0 2 * * *', 'Nowhere/Special'],
      ['0 0 30 2 *', 'UTC'],
    ] as const) {
      let error: unknown;
      try {
        validateCron(cron, zone);
      } catch (caught) {
        error = caught;
      }
      observed.push({
        kind: 'validateCron',
        cron,
        zone,
        code: isBackupError(error) ? error.code : 'accepted',
        message: (error as Error | undefined)?.message.slice(0, 200),
      });
    }
    // February 30th never comes: refused as well, rather than a schedule that never fires.
    expect(observed.filter((o) => o.kind === 'validateCron' && o.code === 'CONFIG_INVALID')).toHaveLength(3);
  });

  // Found by this suite: the default BACKUP_MAX_AGE of a monthly schedule (2 x 31 days + 1 h) once
  // exceeded a 24.8-day timer limit that the schema wrongly applied to it.
  it('accepts a monthly schedule without BACKUP_MAX_AGE', () => {
    loadConfig({ env: { ...base, BACKUP_SCHEDULE: '0 2 1 * *' }, cwd: root });
  });

  // Same limit, given explicitly.
  it('accepts BACKUP_MAX_AGE=30d', () => {
    let message = '';
    try {
      loadConfig({ env: { ...base, BACKUP_MAX_AGE: '30d' }, cwd: root });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('');
  });
});

describe('the worker process', () => {
  it('exits 2 on a bad configuration, naming every bad variable, before touching Redis or the backup directory', async () => {
    const redis = new Redis(base.REDIS_URL!);
    const before = await fileDigests(root);
    const cases: Array<Record<string, string>> = [
      {
        BACKUP_CONCURRENCY: 'four',
        BACKUP_SCHEDULE: '61 * * * *',
        BACKUP_TZ: 'Mars/Olympus_Mons',
        BACKUP_RETENTION: 'daily=x',
        REDIS_URL: 'http://127.0.0.1:6379',
        LOG_LEVEL: 'loud',
      },
      { BACKUP_TARGET_NAME: '../../etc' },
      { BACKUP_TARGET_NAME: longName },
      { DATABASE_URL: 'postgresql://backup:S3cret-Value@127.0.0.1:notaport/app' },
    ];
    for (const bad of cases) {
      const env = { ...base, ...bad };
      const worker = spawnWorkerProcess(env, { logLevel: bad.LOG_LEVEL ?? 'info' });
      await worker.exited;
      expect(worker.child.exitCode, worker.output()).toBe(2);
      const output = worker.output();
      for (const variable of Object.keys(bad)) expect(output).toContain(variable);
      // The password of a bad DATABASE_URL is not echoed back.
      expect(output).not.toContain('S3cret-Value');
      observed.push({
        kind: 'worker process',
        variables: Object.keys(bad),
        exitCode: worker.child.exitCode,
        outputLength: output.length,
        output: output.slice(0, 600),
      });
    }
    expect(await fileDigests(root)).toEqual(before);
    expect(await redis.keys(`${base.BACKUP_QUEUE_PREFIX}:*`)).toEqual([]);
    redis.disconnect();
  }, 60_000);

  it('exits 1 with ENCRYPTION_KEY_MISSING / ENCRYPTION_KEY_INVALID for an unusable key file, and touches nothing', async () => {
    const redis = new Redis(base.REDIS_URL!);
    const before = await fileDigests(root);
    const weak = path.join(root, 'weak.key');
    // 0600: refused for its content, not for its mode.
    await fs.writeFile(weak, 'correct horse battery staple 123', { mode: 0o600 });
    for (const [file, code] of [
      [path.join(root, 'missing.key'), 'ENCRYPTION_KEY_MISSING'],
      [weak, 'ENCRYPTION_KEY_INVALID'],
    ] as const) {
      const worker = spawnWorkerProcess({ ...base, BACKUP_ENCRYPTION_KEY_FILE: file });
      await worker.exited;
      expect(worker.child.exitCode, worker.output()).toBe(1);
      expect(worker.output()).toContain(code);
      expect(worker.output()).not.toContain('correct horse');
      observed.push({ kind: 'worker process', variables: ['BACKUP_ENCRYPTION_KEY_FILE'], exitCode: 1, code });
    }
    await fs.rm(weak);
    expect(await fileDigests(root)).toEqual(before);
    expect(await redis.keys(`${base.BACKUP_QUEUE_PREFIX}:*`)).toEqual([]);
    redis.disconnect();
  }, 60_000);
});
