import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configWorkspace } from '../test-support/config-workspace.js';
import { loadConfig } from './index.js';

const workspace = configWorkspace('load');
const load = workspace.load;

describe('loadConfig defaults', () => {
  it('fills every setting from the documented defaults', () => {
    const config = load({ DATABASE_URL: 'postgresql://app:pw@db.internal:5433/shop' });
    expect(config.backupDir).toBe(path.join(workspace.dir, 'backups'));
    expect(config.logDir).toBe(path.join(workspace.dir, 'logs'));
    expect(config.encryptionKeyFile).toBeUndefined();
    expect(config.decryptionKeyFiles).toEqual([]);
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'pgbackup' });
    expect(config.worker).toEqual({
      concurrency: 2,
      attempts: 5,
      backoffMs: 30_000,
      timeoutMs: 6 * 3_600_000,
      stallTimeoutMs: 600_000,
      shutdownTimeoutMs: 60_000,
      lockDurationMs: 30_000,
      stalledIntervalMs: 15_000,
      healthPort: 3001,
      healthHost: '127.0.0.1',
    });
    expect(config.logLevel).toBe('info');
    expect(config.targets).toHaveLength(1);
    const [target] = config.targets;
    expect(target).toMatchObject({
      name: 'shop',
      schedule: '0 2 * * *',
      timeZone: 'UTC',
      retention: { daily: 7, weekly: 4, monthly: 12, yearly: 0, minVerified: 3 },
      verify: 'read',
      compression: 'zstd',
      suspiciousRatio: 0.5,
      // Daily: 2 x 24h + 1h.
      maxAgeMs: 49 * 3_600_000,
    });
  });

  it('allows no target at all when requireTargets is false', () => {
    expect(loadConfig({ env: {}, cwd: workspace.dir, requireTargets: false }).targets).toEqual([]);
  });

  it('reads the job lock and stalled-check intervals from their variables (bare numbers are ms)', () => {
    const config = load({
      DATABASE_URL: 'postgresql://h/app',
      BACKUP_JOB_LOCK_MS: '2000',
      BACKUP_STALLED_INTERVAL_MS: '1s',
    });
    expect(config.worker).toMatchObject({ lockDurationMs: 2_000, stalledIntervalMs: 1_000 });
    expect(() => load({ DATABASE_URL: 'postgresql://h/app', BACKUP_JOB_LOCK_MS: '10' })).toThrow(
      /BACKUP_JOB_LOCK_MS="10": is too short; expected .*from 1s to 10m/,
    );
  });
});

describe('the local default target', () => {
  it('is the local postgres database when the caller asks for it and nothing configures a target', () => {
    const config = loadConfig({ env: {}, cwd: workspace.dir, localDefault: true });
    expect(config.localDefault).toBe(true);
    expect(config.targets.map((target) => [target.name, target.connection])).toEqual([
      [
        'postgres',
        expect.objectContaining({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' }),
      ],
    ]);
  });

  it('never replaces a configured target, whichever variable configures it', () => {
    for (const [env, database] of [
      [{ DATABASE_URL: 'postgresql://h/app' }, 'app'],
      [{ PGHOST: 'db.internal', PGUSER: 'app' }, 'app'],
      [{ PGDATABASE: 'shop' }, 'shop'],
      [{ POSTGRES_DB: 'shop' }, 'shop'],
      [{ POSTGRES_HOST: 'db.internal', POSTGRES_USER: 'app' }, 'app'],
    ] as const) {
      const config = loadConfig({ env, cwd: workspace.dir, localDefault: true });
      expect(config.localDefault, JSON.stringify(env)).toBeUndefined();
      expect(config.targets.map((target) => target.connection.database)).toEqual([database]);
    }
  });

  it('is not applied for a caller that did not ask (no target stays an error)', () => {
    expect(() => loadConfig({ env: {}, cwd: workspace.dir })).toThrow(/no database to back up is configured/);
  });

  it('treats empty variables as unset', () => {
    const config = load({ DATABASE_URL: 'postgresql://h/app', BACKUP_DIR: '', BACKUP_CONCURRENCY: '  ' });
    expect(config.backupDir).toBe(path.join(workspace.dir, 'backups'));
    expect(config.worker.concurrency).toBe(2);
  });
});

describe('the environment target', () => {
  it('reads every part of DATABASE_URL, percent-decoded', () => {
    const [target] = load({
      DATABASE_URL: 'postgres://us%40er:p%40ss%2Fw@db.example.com:6543/my_db',
    }).targets;
    expect(target?.connection).toEqual({
      host: 'db.example.com',
      port: 6543,
      user: 'us@er',
      password: 'p@ss/w',
      database: 'my_db',
    });
    expect(target?.displayUrl).toBe('postgresql://us%40er@db.example.com:6543/my_db');
    expect(target?.name).toBe('my_db');
  });

  it('takes its name from BACKUP_TARGET_NAME when set', () => {
    const [target] = load({ DATABASE_URL: 'postgresql://h/app', BACKUP_TARGET_NAME: 'app-prod' }).targets;
    expect(target?.name).toBe('app-prod');
  });

  it('uses host 127.0.0.1, port 5432 and user postgres by default', () => {
    const [target] = load({ PGDATABASE: 'inventory' }).targets;
    expect(target?.connection).toEqual({
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      database: 'inventory',
    });
  });

  it('reads the postgres image variables', () => {
    const [target] = load({
      POSTGRES_HOST: 'pg',
      POSTGRES_PORT: '5555',
      POSTGRES_USER: 'owner',
      POSTGRES_PASSWORD: 'img-secret',
      POSTGRES_DB: 'crm',
    }).targets;
    expect(target?.connection).toEqual({
      host: 'pg',
      port: 5555,
      user: 'owner',
      password: 'img-secret',
      database: 'crm',
    });
  });

  it('prefers, per field, the URL to PG* and PG* to POSTGRES_*', () => {
    const env = {
      DATABASE_URL: 'postgresql://url-host/url_db',
      PGHOST: 'pg-host',
      PGPORT: '6000',
      PGUSER: 'pg-user',
      PGDATABASE: 'pg_db',
      POSTGRES_HOST: 'img-host',
      POSTGRES_PORT: '7000',
      POSTGRES_USER: 'img-user',
      POSTGRES_PASSWORD: 'img-password',
      POSTGRES_DB: 'img_db',
    };
    expect(load(env).targets[0]?.connection).toEqual({
      host: 'url-host',
      port: 6000,
      user: 'pg-user',
      password: 'img-password',
      database: 'url_db',
    });
    const { DATABASE_URL: _, ...withoutUrl } = env;
    expect(load({ ...withoutUrl, PGPASSWORD: 'pg-password' }).targets[0]?.connection).toEqual({
      host: 'pg-host',
      port: 6000,
      user: 'pg-user',
      password: 'pg-password',
      database: 'pg_db',
    });
  });

  it('falls back to the user name as the database, as libpq does', () => {
    expect(load({ PGHOST: 'db', PGUSER: 'reporting' }).targets[0]?.connection.database).toBe('reporting');
  });

  it('reads POSTGRES_PASSWORD_FILE and drops one trailing newline only', async () => {
    const file = path.join(workspace.dir, 'pg-password');
    await writeFile(file, 'from file \n\n');
    const [target] = load({ POSTGRES_HOST: 'pg', POSTGRES_DB: 'app', POSTGRES_PASSWORD_FILE: file }).targets;
    expect(target?.connection.password).toBe('from file \n');
  });

  it('resolves a relative POSTGRES_PASSWORD_FILE against cwd', async () => {
    await writeFile(path.join(workspace.dir, 'relative-secret'), 'rel\r\n');
    const [target] = load({ POSTGRES_DB: 'app', POSTGRES_PASSWORD_FILE: 'relative-secret' }).targets;
    expect(target?.connection.password).toBe('rel');
  });

  it('brackets IPv6 hosts in displayUrl', () => {
    const [target] = load({ DATABASE_URL: 'postgresql://u:x@[::1]:5432/app' }).targets;
    expect(target?.connection.host).toBe('::1');
    expect(target?.displayUrl).toBe('postgresql://u@[::1]:5432/app');
  });

  it('accepts a Unix socket directory as the host', () => {
    const [target] = load({ DATABASE_URL: 'postgresql://u@%2Fvar%2Frun%2Fpostgresql/app' }).targets;
    expect(target?.connection.host).toBe('/var/run/postgresql');
    expect(target?.displayUrl).toBe('postgresql://u@%2Fvar%2Frun%2Fpostgresql:5432/app');
  });

  it('does not exist when only PGUSER or PGPASSWORD is set', () => {
    expect(
      loadConfig({ env: { PGUSER: 'a', PGPASSWORD: 'b' }, cwd: workspace.dir, requireTargets: false })
        .targets,
    ).toEqual([]);
  });
});

describe('config files', () => {
  it('reads a YAML file with several targets and global settings', async () => {
    const file = path.join(workspace.dir, 'backups.yaml');
    await writeFile(path.join(workspace.dir, 'billing.password'), 'billing-secret\n');
    await writeFile(
      file,
      [
        'backupDir: ./data/backups',
        'schedule: "30 3 * * *"',
        'timeZone: Europe/Paris',
        'retention: { daily: 3, weekly: 2, monthly: 1 }',
        'compression: gzip',
        'encryptionKeyFile: keys/current.key',
        'decryptionKeyFiles: [keys/2024.key, /abs/2023.key]',
        'concurrency: 4',
        'backoff: 1m',
        'dashboardBasePath: /backups/',
        'targets:',
        '  - name: app',
        '    url: postgresql://app:app-secret@db:5432/app',
        '  - name: billing',
        '    url: postgresql://billing@db2/billing',
        '    passwordFile: billing.password',
        '    schedule: "0 */6 * * *"',
        '    retention: daily=14,weekly=8,monthly=24,yearly=5,min=5',
        '    verify: restore',
        '    maxAge: 13h',
        '    suspiciousRatio: 0.2',
      ].join('\n'),
    );
    const config = load({ BACKUP_CONFIG: 'backups.yaml' });
    expect(config.backupDir).toBe(path.join(workspace.dir, 'data', 'backups'));
    expect(config.encryptionKeyFile).toBe(path.join(workspace.dir, 'keys', 'current.key'));
    expect(config.decryptionKeyFiles).toEqual([
      path.join(workspace.dir, 'keys', '2024.key'),
      '/abs/2023.key',
    ]);
    expect(config.worker.concurrency).toBe(4);
    expect(config.worker.backoffMs).toBe(60_000);
    expect(config.targets.map((target) => target.name)).toEqual(['app', 'billing']);
    const [app, billing] = config.targets;
    expect(app).toMatchObject({
      connection: { host: 'db', port: 5432, user: 'app', password: 'app-secret', database: 'app' },
      displayUrl: 'postgresql://app@db:5432/app',
      schedule: '30 3 * * *',
      timeZone: 'Europe/Paris',
      retention: { daily: 3, weekly: 2, monthly: 1, yearly: 0, minVerified: 3 },
      verify: 'read',
      compression: 'gzip',
    });
    expect(billing).toMatchObject({
      connection: {
        host: 'db2',
        port: 5432,
        user: 'billing',
        password: 'billing-secret',
        database: 'billing',
      },
      schedule: '0 */6 * * *',
      timeZone: 'Europe/Paris',
      retention: { daily: 14, weekly: 8, monthly: 24, yearly: 5, minVerified: 5 },
      verify: 'restore',
      maxAgeMs: 13 * 3_600_000,
      suspiciousRatio: 0.2,
    });
  });

  it('reads a JSON file, relative paths against the file directory', async () => {
    const sub = path.join(workspace.dir, 'etc');
    await import('node:fs/promises').then((fs) => fs.mkdir(sub, { recursive: true }));
    await writeFile(
      path.join(sub, 'backups.json'),
      JSON.stringify({
        logDir: 'logs',
        verify: 'list',
        healthPort: 0,
        targets: [
          { name: 'one', url: 'postgresql://u@h1/one', compression: 'none' },
          { name: 'two', url: 'postgresql://u@h2:5499/two', timeZone: 'America/New_York' },
          { name: 'three', url: 'postgresql://u@h3/three' },
        ],
      }),
    );
    const config = load({ BACKUP_CONFIG: 'etc/backups.json' });
    expect(config.logDir).toBe(path.join(sub, 'logs'));
    expect(config.worker.healthPort).toBe(0);
    expect(
      config.targets.map((target) => [target.name, target.compression, target.verify, target.timeZone]),
    ).toEqual([
      ['one', 'none', 'list', 'UTC'],
      ['two', 'zstd', 'list', 'America/New_York'],
      ['three', 'zstd', 'list', 'UTC'],
    ]);
    expect(config.targets[1]?.connection.port).toBe(5499);
  });

  it('uses file targets and the environment target together', async () => {
    await writeFile(
      path.join(workspace.dir, 'both.yml'),
      'targets:\n  - name: reports\n    url: postgresql://r@h/reports\n',
    );
    const config = load({ BACKUP_CONFIG: 'both.yml', DATABASE_URL: 'postgresql://u@h/main' });
    expect(config.targets.map((target) => target.name)).toEqual(['reports', 'main']);
  });

  it('lets an environment target replace the connection of the file target with its name', async () => {
    await writeFile(
      path.join(workspace.dir, 'replace.yml'),
      'targets:\n  - name: app\n    url: postgresql://old@old-host/app\n    schedule: "0 4 * * *"\n',
    );
    const config = load({
      BACKUP_CONFIG: 'replace.yml',
      DATABASE_URL: 'postgresql://new:pw@new-host:6000/app',
    });
    expect(config.targets).toHaveLength(1);
    expect(config.targets[0]).toMatchObject({
      name: 'app',
      connection: { host: 'new-host', port: 6000, user: 'new', password: 'pw', database: 'app' },
      displayUrl: 'postgresql://new@new-host:6000/app',
      schedule: '0 4 * * *',
    });
  });

  it('accepts an empty file', async () => {
    await writeFile(path.join(workspace.dir, 'empty.yaml'), '');
    expect(load({ BACKUP_CONFIG: 'empty.yaml', DATABASE_URL: 'postgresql://h/a' }).targets).toHaveLength(1);
  });
});
