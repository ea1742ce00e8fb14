import { SCHEDULE_OVERDUE_GRACE_MS } from '@pgbackup/queue';
import { describe, expect, it } from 'vitest';
import { type ScheduleRow, rowScheduleState as scheduleState } from './commands/schedules.js';

const now = new Date('2026-12-03T09:00:00Z');
const row = (next: string | null, scheduler = true): ScheduleRow => ({
  target: 'app',
  schedule: '0 2 * * *',
  timeZone: 'UTC',
  nextRuns: [],
  scheduler: scheduler ? { id: 'dump:app', pattern: '0 2 * * *', tz: 'UTC', next } : null,
  inSync: scheduler,
});
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

describe('scheduleState, of a schedules row', () => {
  it('is missing without a scheduler, unknown without Redis', () => {
    expect(scheduleState(row(null, false), true, 1, now)).toBe('missing');
    expect(scheduleState(row(null, false), false, undefined, now)).toBe('unknown');
  });

  it('is overdue once the pending run is past its time by the grace and no worker is connected', () => {
    const late = row(ago(SCHEDULE_OVERDUE_GRACE_MS + 1_000));
    expect(scheduleState(late, true, 0, now)).toBe('overdue');
    // Workers connected: a queue working through a slot, not a stopped schedule.
    expect(scheduleState(late, true, 2, now)).toBe('ok');
    // Not known whether any worker runs (CLIENT LIST refused): not called overdue.
    expect(scheduleState(late, true, undefined, now)).toBe('ok');
    expect(scheduleState(row(ago(SCHEDULE_OVERDUE_GRACE_MS - 1_000)), true, 0, now)).toBe('ok');
    expect(scheduleState(row('2026-12-04T02:00:00.000Z'), true, 0, now)).toBe('ok');
  });
});
