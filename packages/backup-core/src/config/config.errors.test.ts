import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackupError } from '../errors.js';
import { backupErrorOf, configWorkspace } from '../test-support/config-workspace.js';
import { type LoadConfigOptions, loadConfig } from './index.js';

const secret = 'Zq9-distinctive-PASSWORD-7731';
const workspace = configWorkspace('errors');

const failure = (options: LoadConfigOptions) =>
  backupErrorOf(() => loadConfig({ cwd: workspace.dir, ...options }), 'CONFIG_INVALID');

const lines = (error: BackupError) => error.message.split('\n');
const base = { DATABASE_URL: 'postgresql://u@h/app' };

describe('a bad value names the variable, the value, the problem and the expectation', () => {
  it.each([
    [
      'BACKUP_RETENTION',
      'daily=x',
      `BACKUP_RETENTION="daily=x": 'x' is not a whole number; expected daily=N,weekly=N,monthly=N (for example daily=7,weekly=4,monthly=12)`,
    ],
    [
      'BACKUP_RETENTION',
      'daily=7,weekly=4',
      'BACKUP_RETENTION="daily=7,weekly=4": monthly is missing; expected daily=N',
    ],
    [
      'BACKUP_RETENTION',
      'dayly=7,weekly=4,monthly=1',
      '"dayly" is not a retention key (did you mean daily?)',
    ],
    [
      'BACKUP_RETENTION',
      'daily=7,weekly=4,monthly=12,min=0',
      'min=0 would let pruning delete every verified backup; expected min=N with N at least 1',
    ],
    [
      'BACKUP_SCHEDULE',
      '0 2 * *',
      'BACKUP_SCHEDULE="0 2 * *": has 4 fields; expected a cron expression with 5 fields',
    ],
    [
      'BACKUP_TZ',
      'Mars/Base',
      'BACKUP_TZ="Mars/Base": is not a known time zone; expected an IANA time zone, for example UTC or Europe/Paris',
    ],
    [
      'BACKUP_COMPRESSION',
      'lz4',
      'BACKUP_COMPRESSION="lz4": is not one of the accepted values; expected one of zstd, gzip, none',
    ],
    [
      'BACKUP_VERIFY',
      'full',
      'BACKUP_VERIFY="full": is not one of the accepted values; expected one of checksum, list, read, restore',
    ],
    [
      'BACKUP_MAX_AGE',
      '3 days',
      'BACKUP_MAX_AGE="3 days": is not a duration; expected a duration such as 500ms, 30s, 10m, 6h, 2d',
    ],
    [
      'BACKUP_SUSPICIOUS_RATIO',
      '1.5',
      'BACKUP_SUSPICIOUS_RATIO="1.5": is above 1; expected a number from 0 (disabled) to 1',
    ],
    ['BACKUP_SUSPICIOUS_RATIO', 'half', 'BACKUP_SUSPICIOUS_RATIO="half": is not a number'],
    [
      'REDIS_URL',
      'localhost:6379',
      'REDIS_URL="localhost:6379": is not an absolute URL; expected a redis:// or rediss:// URL',
    ],
    ['REDIS_URL', 'http://r:6379', 'REDIS_URL="http://r:6379": has the scheme http'],
    [
      'BACKUP_WEBHOOK_URL',
      'ftp://hooks/x',
      'BACKUP_WEBHOOK_URL=***: has the scheme ftp; expected an http or https URL',
    ],
    ['BACKUP_QUEUE_PREFIX', 'pg backup', 'BACKUP_QUEUE_PREFIX="pg backup": has characters other than'],
    [
      'BACKUP_CONCURRENCY',
      '0',
      'BACKUP_CONCURRENCY="0": is below 1; expected a whole number from 1 to 64, for example 2',
    ],
    ['BACKUP_CONCURRENCY', '65', 'BACKUP_CONCURRENCY="65": is above 64'],
    [
      'BACKUP_ATTEMPTS',
      '2.5',
      'BACKUP_ATTEMPTS="2.5": is not a whole number; expected a whole number from 1 to 100',
    ],
    ['BACKUP_BACKOFF', '30 seconds', 'BACKUP_BACKOFF="30 seconds": is not a duration'],
    ['BACKUP_TIMEOUT', '0', 'BACKUP_TIMEOUT="0": must be longer than 0'],
    ['BACKUP_STALL_TIMEOUT', '30d', 'BACKUP_STALL_TIMEOUT="30d": is too long; expected a duration such as'],
    ['BACKUP_SHUTDOWN_TIMEOUT', '-1s', 'BACKUP_SHUTDOWN_TIMEOUT="-1s": is not a duration'],
    [
      'BACKUP_HEALTH_PORT',
      '70000',
      'BACKUP_HEALTH_PORT="70000": is above 65535; expected a port from 1 to 65535, or 0 to disable',
    ],
    ['BACKUP_HEALTH_HOST', 'http://0.0.0.0', 'BACKUP_HEALTH_HOST="http://0.0.0.0": is a URL, not a host'],
    [
      'LOG_LEVEL',
      'verbose',
      'LOG_LEVEL="verbose": is not one of the accepted values; expected one of fatal, error, warn, info, debug, trace, silent',
    ],
    ['DASHBOARD_PORT', '0', 'DASHBOARD_PORT="0": is below 1; expected a port from 1 to 65535'],
    [
      'DASHBOARD_BASE_PATH',
      'admin',
      'DASHBOARD_BASE_PATH="admin": does not start with /; expected a URL path starting with /, for example /backups',
    ],
    ['DASHBOARD_BASE_PATH', '/a/../b', 'DASHBOARD_BASE_PATH="/a/../b": has a . or .. segment'],
    [
      'DASHBOARD_TRUST_PROXY',
      'yes',
      'DASHBOARD_TRUST_PROXY="yes": has "yes", which is not an IP address or CIDR range; expected the number of reverse proxies in front of the dashboard (1 to 10), or their addresses or CIDR ranges separated by commas',
    ],
    [
      'DASHBOARD_TRUST_PROXY',
      '10.0.0.0/33',
      'DASHBOARD_TRUST_PROXY="10.0.0.0/33": has "10.0.0.0/33", whose prefix length is not 0 to 32',
    ],
    ['DASHBOARD_TRUST_PROXY', '0', 'DASHBOARD_TRUST_PROXY="0": is not a hop count from 1 to 10'],
    ['DASHBOARD_TRUST_PROXY', '10.0.0.1,', 'DASHBOARD_TRUST_PROXY="10.0.0.1,": has an empty item'],
    [
      'DASHBOARD_USER',
      'ad:min',
      'DASHBOARD_USER="ad:min": contains a colon; expected a user name without a colon',
    ],
    [
      'DASHBOARD_PASSWORD_FILE',
      'no-such-file',
      'DASHBOARD_PASSWORD_FILE="no-such-file": cannot be read (ENOENT); expected a readable file',
    ],
    [
      'BACKUP_CONFIG',
      'settings.toml',
      'BACKUP_CONFIG="settings.toml": has no .json, .yaml or .yml extension',
    ],
    [
      'BACKUP_CONFIG',
      'absent.yaml',
      'BACKUP_CONFIG="absent.yaml": cannot be read (ENOENT); expected a .json, .yaml or .yml file',
    ],
    ['PGPORT', 'five', 'PGPORT="five": is not a whole number; expected a port from 1 to 65535'],
    ['POSTGRES_PORT', '0', 'POSTGRES_PORT="0": is below 1'],
    [
      'BACKUP_TARGET_NAME',
      '-app',
      'BACKUP_TARGET_NAME="-app": does not start with a letter or digit; expected 1 to 63 characters: letters, digits, _ . -',
    ],
  ])('%s=%j', (name, value, expected) => {
    const error = failure({ env: { ...base, [name]: value } });
    expect(lines(error)).toHaveLength(1);
    expect(error.message).toContain(expected);
    expect(error.details?.problems).toEqual([expect.objectContaining({ where: name, source: 'env' })]);
  });

  it.each([
    ['mysql://h/db', 'has the scheme mysql, not postgresql; expected a postgres URL'],
    [
      'postgresql://h/app?connect_timeout=5',
      'has connection options (connect_timeout), which are not supported (only sslmode, sslrootcert, sslcert, sslkey are)',
    ],
    ['postgresql://h1,h2/app', 'lists several hosts'],
    ['postgresql://h:99999/app', 'is not a valid URL'],
    ['postgresql://h/a/b', 'has a path with more than the database name'],
  ])('DATABASE_URL=%j', (url, expected) => {
    expect(failure({ env: { DATABASE_URL: url } }).message).toContain(`DATABASE_URL="${url}": ${expected}`);
  });

  it('explains a database name that cannot be a target name', () => {
    expect(failure({ env: { DATABASE_URL: 'postgresql://h/my%20db' } }).message).toBe(
      'BACKUP_TARGET_NAME: is not set and the database name "my db" cannot be a target name; expected BACKUP_TARGET_NAME with 1 to 63 characters: letters, digits, _ . - and starting with a letter or digit, for example app-prod',
    );
  });

  it('requires a target unless told otherwise', () => {
    expect(failure({ env: {} }).message).toBe(
      'targets: no database to back up is configured; expected DATABASE_URL (for example postgresql://user:password@host:5432/database) or BACKUP_CONFIG naming a file with targets',
    );
  });

  it('names the overrides as their source', () => {
    const error = failure({ env: base, overrides: { BACKUP_CONCURRENCY: 'lots' } });
    expect(error.details?.problems).toEqual([
      expect.objectContaining({ where: 'BACKUP_CONCURRENCY', source: 'override' }),
    ]);
  });

  it('refuses half-configured passwords', async () => {
    await writeFile(path.join(workspace.dir, 'pw'), 'x\n');
    expect(failure({ env: { ...base, POSTGRES_PASSWORD: 'a', POSTGRES_PASSWORD_FILE: 'pw' } }).message).toBe(
      'POSTGRES_PASSWORD_FILE="pw": is set together with POSTGRES_PASSWORD; expected only one of them',
    );
    expect(failure({ env: { ...base, REDIS_PASSWORD: 'a', REDIS_PASSWORD_FILE: 'pw' } }).message).toBe(
      'REDIS_PASSWORD_FILE: is set together with REDIS_PASSWORD; expected only one of them',
    );
    // The dashboard's accounts are the dashboard's rules: apps/dashboard/src/config/dashboard-section.test.ts.
  });
});

describe('every problem is reported at once', () => {
  it('lists one line per bad variable', () => {
    const error = failure({
      env: {
        DATABASE_URL: 'postgresql://h:abc/app',
        BACKUP_RETENTION: 'daily=x',
        BACKUP_TZ: 'Nowhere/City',
        BACKUP_CONCURRENCY: '0',
        BACKUP_TIMEOUT: 'soon',
        LOG_LEVEL: 'loud',
      },
    });
    const wheres = ((error.details?.problems ?? []) as Array<{ where: string }>).map(
      (problem) => problem.where,
    );
    expect(wheres.sort()).toEqual(
      [
        'BACKUP_CONCURRENCY',
        'BACKUP_RETENTION',
        'BACKUP_TIMEOUT',
        'BACKUP_TZ',
        'DATABASE_URL',
        'LOG_LEVEL',
      ].sort(),
    );
    expect(lines(error)).toHaveLength(6);
  });

  it('reports problems of the file and of the environment together', async () => {
    await writeFile(
      path.join(workspace.dir, 'bad.yaml'),
      [
        'retension: daily=1,weekly=1,monthly=1',
        'concurrency: many',
        'targets:',
        '  - name: app',
        '    url: postgresql://u@h/app',
        '    retention: { daily: -1, weekly: 2, monthlyy: 3 }',
        '  - name: "bad name!"',
        '    url: postgresql://u@h',
        '    timezone: UTC',
        '  - name: app',
        '    url: postgresql://u@h/other',
      ].join('\n'),
    );
    const error = failure({ env: { BACKUP_CONFIG: 'bad.yaml', BACKUP_VERIFY: 'maximum' } });
    expect(lines(error)).toEqual([
      expect.stringMatching(
        /^bad\.yaml: retension: is not a known key \(did you mean retention\?\); expected one of backupDir, /,
      ),
      'bad.yaml: concurrency="many": is not a whole number; expected a whole number from 1 to 64, for example 2',
      'bad.yaml: targets[0].retention.daily=-1: is not a whole number; expected a whole number >= 0, for example 7',
      'bad.yaml: targets[0].retention.monthlyy=3: is not a known key (did you mean monthly?); expected one of daily, weekly, monthly, yearly, minVerified',
      expect.stringMatching(
        /^bad\.yaml: targets\[1\]\.timezone: is not a known key \(did you mean timeZone\?\); expected one of name, url, /,
      ),
      'bad.yaml: targets[1].name="bad name!": contains a character other than letters, digits, _ . -; expected 1 to 63 characters: letters, digits, _ . - and starting with a letter or digit, for example app-prod',
      'bad.yaml: targets[1].url="postgresql://u@h": has no database name; expected a postgres URL with a database name, for example postgresql://user:password@host:5432/database',
      'BACKUP_VERIFY="maximum": is not one of the accepted values; expected one of checksum, list, read, restore (weakest first)',
    ]);
  });

  it('rejects duplicate target names', async () => {
    await writeFile(
      path.join(workspace.dir, 'dup.json'),
      JSON.stringify({
        targets: [
          { name: 'a', url: 'postgresql://h/a' },
          { name: 'a', url: 'postgresql://h/b' },
        ],
      }),
    );
    expect(failure({ env: { BACKUP_CONFIG: 'dup.json' } }).message).toBe(
      'dup.json: targets[1].name="a": is also the name of targets[0]; expected a unique name for each target',
    );
  });

  it('reports wrong types and file syntax errors with their position', async () => {
    await writeFile(
      path.join(workspace.dir, 'types.yaml'),
      'targets: { name: a }\nbackupDir: [x]\nconcurrency: true\n',
    );
    expect(lines(failure({ env: { BACKUP_CONFIG: 'types.yaml' } }))).toEqual([
      'types.yaml: targets: is not a list; expected a list of {name, url, ...} entries',
      'types.yaml: backupDir=["x"]: is a list; expected a directory path, for example /var/backups/postgres',
      'types.yaml: concurrency=true: is a boolean; expected a whole number from 1 to 64, for example 2',
    ]);
    await writeFile(path.join(workspace.dir, 'syntax.yaml'), 'schedule: * * * * *\n');
    expect(failure({ env: { BACKUP_CONFIG: 'syntax.yaml' } }).message).toMatch(
      /^syntax\.yaml: is not valid YAML \(\w+ at line 1, column \d+\); expected a \.json, \.yaml or \.yml file$/,
    );
  });
});

describe('secrets never appear in messages, details or displayUrl', () => {
  const assertHidden = (error: BackupError) => {
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error.details)).not.toContain(secret);
    expect(error.stack ?? '').not.toContain(secret);
  };

  it('redacts the password of a bad DATABASE_URL, even one that does not parse', () => {
    for (const url of [
      `postgresql://u:${secret}@h/app?connect_timeout=5`,
      `postgresql://u:${secret}@h:abc/app`,
      `postgresql://u:${secret}/x#y@h/app`,
      `mysql://u:${secret}@h/app`,
    ]) {
      const error = failure({ env: { DATABASE_URL: url, BACKUP_COMPRESSION: 'rar' } });
      assertHidden(error);
      expect(error.message).toContain('DATABASE_URL="');
      expect(error.message).toContain(':***@');
    }
  });

  it('hides password variables, webhook URLs and Redis passwords', () => {
    const error = failure({
      env: {
        ...base,
        REDIS_URL: `http://:${secret}@redis:6379`,
        BACKUP_WEBHOOK_URL: `hooks.example.com/${secret}`,
        DASHBOARD_VIEWER_PASSWORD: secret,
      },
    });
    assertHidden(error);
    expect(error.message).toContain('REDIS_URL="http://:***@redis:6379"');
    expect(error.message).toContain('BACKUP_WEBHOOK_URL=***: is not an absolute URL');
  });

  it('hides passwords from the config file and from password files', async () => {
    await writeFile(path.join(workspace.dir, 'secret-file'), `${secret}\n`);
    await writeFile(
      path.join(workspace.dir, 'secrets.yaml'),
      [
        `redisPassword: ${secret}`,
        'redisPasswordFile: secret-file',
        'targets:',
        `  - name: app`,
        `    url: postgresql://u:${secret}@h/app`,
        '    passwordFile: secret-file',
        `  - name: other`,
        `    url: postgresql://u:${secret}@h:5432`,
      ].join('\n'),
    );
    const error = failure({ env: { BACKUP_CONFIG: 'secrets.yaml' } });
    assertHidden(error);
    expect(lines(error)).toEqual([
      'secrets.yaml: targets[0].passwordFile="secret-file": is set while url has a password (***); expected only one of them',
      'secrets.yaml: targets[1].url="postgresql://u:***@h:5432": has no database name; expected a postgres URL with a database name, for example postgresql://user:password@host:5432/database',
      'secrets.yaml: redisPasswordFile: is set together with redisPassword; expected only one of them',
    ]);
  });

  it('keeps the password out of displayUrl', () => {
    const config = loadConfig({
      env: { DATABASE_URL: `postgresql://owner:${secret}@db:5432/app` },
      cwd: workspace.dir,
    });
    expect(config.targets[0]?.connection.password).toBe(secret);
    expect(config.targets[0]?.displayUrl).toBe('postgresql://owner@db:5432/app');
  });

  it('keeps a secret out of JSON syntax errors', async () => {
    await writeFile(path.join(workspace.dir, 'broken.json'), `{"dashboardPassword": ${secret}}`);
    assertHidden(failure({ env: { BACKUP_CONFIG: 'broken.json' } }));
  });
});
