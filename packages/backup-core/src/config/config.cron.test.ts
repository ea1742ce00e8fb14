import { describe, expect, it } from 'vitest';
import { isBackupError } from '../errors.js';
import { defaultMaxAgeMs, loadConfig, nextRuns, validateCron } from './index.js';

const hour = 3_600_000;

describe('validateCron', () => {
  it('accepts 5 fields and 6 fields with seconds first', () => {
    expect(() => validateCron('0 2 * * *', 'UTC')).not.toThrow();
    expect(() => validateCron('*/15 9-17 * * MON-FRI', 'Europe/Paris')).not.toThrow();
    expect(() => validateCron('30 0 2 * * *', 'UTC')).not.toThrow();
  });

  it.each([
    ['0 2 * *', 'has 4 fields'],
    ['0 0 2 * * * *', 'has 7 fields'],
    ['61 2 * * *', 'is not a valid cron expression'],
    ['0 25 * * *', 'is not a valid cron expression'],
    ['every day', 'has 2 fields'],
    ['@daily', 'shortcuts such as @daily are not supported'],
    ['H 2 * * *', 'uses H'],
    ['', 'is empty'],
  ])('rejects %j (%s)', (expression, problem) => {
    let error: unknown;
    try {
      validateCron(expression, 'UTC');
    } catch (caught) {
      error = caught;
    }
    expect(isBackupError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain(problem);
    expect((error as Error).message).toContain('expected a cron expression with 5 fields');
  });

  it('rejects an unknown time zone', () => {
    expect(() => validateCron('0 2 * * *', 'Mars/Olympus')).toThrow(
      /time zone="Mars\/Olympus": is not a known time zone; expected an IANA time zone/,
    );
  });

  it('reports BACKUP_SCHEDULE with its value and the expectation', () => {
    expect(() =>
      loadConfig({ env: { DATABASE_URL: 'postgresql://h/a', BACKUP_SCHEDULE: '0 2 * *' } }),
    ).toThrow(
      'BACKUP_SCHEDULE="0 2 * *": has 4 fields; expected a cron expression with 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, for example "0 2 * * *" (every day at 02:00)',
    );
  });
});

describe('nextRuns', () => {
  it('keeps local time across the spring daylight-saving change in Europe/Paris', () => {
    const runs = nextRuns('0 3 * * *', 'Europe/Paris', 3, new Date('2025-03-29T00:00:00Z'));
    // 03:00 CET is 02:00Z; from 30 March, 03:00 CEST is 01:00Z.
    expect(runs.map((run) => run.toISOString())).toEqual([
      '2025-03-29T02:00:00.000Z',
      '2025-03-30T01:00:00.000Z',
      '2025-03-31T01:00:00.000Z',
    ]);
  });

  it('keeps local time across the autumn change', () => {
    const runs = nextRuns('0 12 * * *', 'Europe/Paris', 2, new Date('2025-10-25T00:00:00Z'));
    expect(runs.map((run) => run.toISOString())).toEqual([
      '2025-10-25T10:00:00.000Z',
      '2025-10-26T11:00:00.000Z',
    ]);
  });

  it('runs hourly schedules an hour apart in real time through the change', () => {
    const runs = nextRuns('0 * * * *', 'Europe/Paris', 3, new Date('2025-03-30T00:30:00Z'));
    expect(runs.map((run) => run.toISOString())).toEqual([
      '2025-03-30T01:00:00.000Z',
      '2025-03-30T02:00:00.000Z',
      '2025-03-30T03:00:00.000Z',
    ]);
  });

  it('supports seconds', () => {
    const runs = nextRuns('*/20 * * * * *', 'UTC', 3, new Date('2025-01-01T00:00:00Z'));
    expect(runs.map((run) => run.toISOString())).toEqual([
      '2025-01-01T00:00:20.000Z',
      '2025-01-01T00:00:40.000Z',
      '2025-01-01T00:01:00.000Z',
    ]);
  });
});

describe('defaultMaxAgeMs', () => {
  it('is twice the longest gap plus an hour', () => {
    expect(defaultMaxAgeMs('0 2 * * *', 'UTC')).toBe(49 * hour);
    expect(defaultMaxAgeMs('* * * * *', 'UTC')).toBe(2 * 60_000 + hour);
    // Weekdays only: Friday to Monday is the longest gap.
    expect(defaultMaxAgeMs('0 2 * * 1-5', 'UTC', new Date('2025-01-01T00:00:00Z'))).toBe(145 * hour);
  });

  it('counts the 25-hour day when the clocks go back', () => {
    expect(defaultMaxAgeMs('0 2 * * *', 'Europe/Paris', new Date('2025-10-24T00:00:00Z'))).toBe(51 * hour);
  });

  it('is what loadConfig uses for daily and every-minute targets', () => {
    const env = { DATABASE_URL: 'postgresql://h/a' };
    expect(loadConfig({ env }).targets[0]?.maxAgeMs).toBe(49 * hour);
    expect(loadConfig({ env: { ...env, BACKUP_SCHEDULE: '* * * * *' } }).targets[0]?.maxAgeMs).toBe(
      62 * 60_000,
    );
  });
});
