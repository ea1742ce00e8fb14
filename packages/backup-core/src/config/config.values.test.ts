import { describe, expect, it } from 'vitest';
import { isBackupError } from '../errors.js';
import { redactUrl } from '../redact.js';
import { type BackupConfig, findTarget, loadConfig, parseDuration, parseRetention } from './index.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['6h', 21_600_000],
    ['2d', 172_800_000],
    ['1500', 1500],
    ['0', 0],
    ['1.5h', 5_400_000],
    [' 45 s ', 45_000],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '10 minutes', '-5s', '5S', '1h30m', '2w'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: `duration=${JSON.stringify(text)}: is not a duration; expected a duration such as 500ms, 30s, 10m, 6h, 2d or a number of milliseconds`,
      }),
    );
  });
});

describe('parseRetention', () => {
  it('reads the required counts and defaults yearly to 0 and min to 3', () => {
    expect(parseRetention('daily=7,weekly=4,monthly=12')).toEqual({
      daily: 7,
      weekly: 4,
      monthly: 12,
      yearly: 0,
      minVerified: 3,
    });
  });

  it('reads yearly and min, in any order and with spaces', () => {
    expect(parseRetention(' min=1, yearly=3 ,monthly=0,weekly=0,daily=30 ')).toEqual({
      daily: 30,
      weekly: 0,
      monthly: 0,
      yearly: 3,
      minVerified: 1,
    });
  });

  it.each([
    ['daily=x,weekly=4,monthly=12', "'x' is not a whole number"],
    ['daily=-1,weekly=4,monthly=12', "'-1' is not a whole number"],
    ['daily=7', 'weekly and monthly are missing'],
    ['daily=7,daily=8,weekly=1,monthly=1', 'daily is given twice'],
    ['daily=7,weekly=4,monthly=12,hourly=2', '"hourly" is not a retention key'],
    ['daily=7,weekly=4,monthly=12,min=0', 'min=0 would let pruning delete every verified backup'],
    ['daily 7', '"daily 7" is not key=count'],
    ['', 'is empty'],
  ])('rejects %j: %s', (text, problem) => {
    let error: unknown;
    try {
      parseRetention(text);
    } catch (caught) {
      error = caught;
    }
    expect(isBackupError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain(`retention=${JSON.stringify(text)}: ${problem}`);
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgresql://user:secret@host:5432/db', 'postgresql://user:***@host:5432/db'],
    ['postgresql://user@host/db', 'postgresql://user@host/db'],
    ['postgresql://host:5432/db', 'postgresql://host:5432/db'],
    ['redis://:secret@redis:6379', 'redis://:***@redis:6379'],
    // Everything up to the last @ goes: an @ in the query could as well be the password's.
    ['postgresql://user:p%40ss@host/db?x=a@b', 'postgresql://user:***@b'],
    // Parses (host app, port 2024), yet 2024/Secret is the password.
    ['postgresql://app:2024/Secret@db.internal:5432/app', 'postgresql://app:***@db.internal:5432/app'],
    // The user name cannot be told apart from the password: all of it goes.
    ['postgresql://a/b?c:pw@host/db', 'postgresql://***@host/db'],
    ['redis://x y:pw@host', 'redis://***@host'],
    ['postgresql://user:p@ss@host/db', 'postgresql://user:***@host/db'],
    ['postgresql://user:pa/ss#x@host/db', 'postgresql://user:***@host/db'],
    [
      'postgresql://host/db?user=u&password=secret&sslmode=require',
      'postgresql://host/db?user=u&password=***&sslmode=require',
    ],
    ['user:secret@host/db', 'user:***@host/db'],
    ['not a url', 'not a url'],
  ])('%s -> %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});

describe('findTarget', () => {
  const config: BackupConfig = loadConfig({
    env: { DATABASE_URL: 'postgresql://h/billing' },
    cwd: '/',
  });
  config.targets.push({ ...config.targets[0]!, name: 'inventory' });

  it('returns the named target', () => {
    expect(findTarget(config, 'inventory').name).toBe('inventory');
  });

  it('lists the known names and suggests the closest', () => {
    expect(() => findTarget(config, 'biling')).toThrow(
      expect.objectContaining({
        code: 'TARGET_UNKNOWN',
        message: 'Unknown target "biling". Did you mean "billing"? Known targets: billing, inventory.',
        details: { name: 'biling', known: ['billing', 'inventory'], suggestion: 'billing' },
      }),
    );
  });

  it('does not suggest a far-fetched name', () => {
    expect(() => findTarget(config, 'zz')).toThrow('Unknown target "zz". Known targets: billing, inventory.');
  });

  it('says when there are no targets', () => {
    expect(() => findTarget({ ...config, targets: [] }, 'app')).toThrow(
      'Unknown target "app". No targets are configured.',
    );
  });
});
