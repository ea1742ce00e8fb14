import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { configWorkspace } from '../test-support/config-workspace.js';
import { loadConfig } from './index.js';

const workspace = configWorkspace('precedence');
beforeAll(async () => {
  await writeFile(
    path.join(workspace.dir, 'settings.yaml'),
    [
      'backupDir: /from/file',
      'concurrency: 3',
      'timeout: 2h',
      'logLevel: warn',
      'retention: daily=1,weekly=1,monthly=1',
      'verify: list',
      'redisPassword: file-password',
      'targets:',
      '  - name: plain',
      '    url: postgresql://u@h/plain',
      '  - name: own',
      '    url: postgresql://u@h/own',
      '    verify: checksum',
      '    schedule: "15 1 * * *"',
    ].join('\n'),
  );
});

const load = (env: Record<string, string>, overrides: Record<string, string> = {}) =>
  loadConfig({ env: { BACKUP_CONFIG: 'settings.yaml', ...env }, overrides, cwd: workspace.dir });

describe('precedence: overrides > environment > file > default', () => {
  it('takes the file over the defaults', () => {
    const config = load({});
    expect(config.backupDir).toBe('/from/file');
    expect(config.worker.concurrency).toBe(3);
    expect(config.worker.timeoutMs).toBe(2 * 3_600_000);
    expect(config.logLevel).toBe('warn');
    expect(config.worker.attempts).toBe(5);
    expect(config.redis.password).toBe('file-password');
  });

  it('takes the environment over the file', () => {
    const config = load({
      BACKUP_DIR: '/from/env',
      BACKUP_CONCURRENCY: '5',
      BACKUP_TIMEOUT: '3h',
      LOG_LEVEL: 'debug',
    });
    expect(config.backupDir).toBe('/from/env');
    expect(config.worker.concurrency).toBe(5);
    expect(config.worker.timeoutMs).toBe(3 * 3_600_000);
    expect(config.logLevel).toBe('debug');
  });

  it('takes the overrides over the environment', () => {
    const config = load(
      { BACKUP_DIR: '/from/env', BACKUP_CONCURRENCY: '5', LOG_LEVEL: 'debug' },
      { BACKUP_DIR: 'relative/override', BACKUP_CONCURRENCY: '7', LOG_LEVEL: 'ERROR' },
    );
    expect(config.backupDir).toBe(path.join(workspace.dir, 'relative', 'override'));
    expect(config.worker.concurrency).toBe(7);
    expect(config.logLevel).toBe('error');
  });

  it('applies overrides to the environment target too', () => {
    const config = loadConfig({
      env: { DATABASE_URL: 'postgresql://h/env_db' },
      overrides: { DATABASE_URL: 'postgresql://h/cli_db' },
      cwd: workspace.dir,
    });
    expect(config.targets.map((target) => target.name)).toEqual(['cli_db']);
  });

  it('lets a password in a stronger layer win over a password file in a weaker one', async () => {
    await writeFile(path.join(workspace.dir, 'redis-password'), 'env-file-password\n');
    expect(load({ REDIS_PASSWORD_FILE: 'redis-password' }).redis.password).toBe('env-file-password');
  });

  it('reads per-target settings between the overrides and the environment', () => {
    const byName = (config: ReturnType<typeof load>) =>
      Object.fromEntries(config.targets.map((target) => [target.name, [target.verify, target.schedule]]));
    expect(byName(load({}))).toEqual({ plain: ['list', '0 2 * * *'], own: ['checksum', '15 1 * * *'] });
    // A global variable does not flatten a target's own setting...
    expect(byName(load({ BACKUP_VERIFY: 'restore', BACKUP_SCHEDULE: '0 5 * * *' }))).toEqual({
      plain: ['restore', '0 5 * * *'],
      own: ['checksum', '15 1 * * *'],
    });
    // ...but an explicit override (a CLI flag) does.
    expect(byName(load({}, { BACKUP_VERIFY: 'restore' }))).toEqual({
      plain: ['restore', '0 2 * * *'],
      own: ['restore', '15 1 * * *'],
    });
  });

  it('computes each target default max age from the schedule it ends up with', () => {
    const config = load({ BACKUP_SCHEDULE: '0 * * * *' });
    const maxAge = Object.fromEntries(config.targets.map((target) => [target.name, target.maxAgeMs]));
    expect(maxAge).toEqual({ plain: 3 * 3_600_000, own: 49 * 3_600_000 });
    expect(load({ BACKUP_MAX_AGE: '2d' }).targets.every((target) => target.maxAgeMs === 2 * 86_400_000)).toBe(
      true,
    );
  });
});
