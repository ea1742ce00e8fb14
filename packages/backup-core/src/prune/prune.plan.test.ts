import { describe, expect, it } from 'vitest';
import { isBackupError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import { describeReason, type PrunePlan, type PruneReason, planPrune } from './plan.js';
import { defaultRetentionPolicy, type RetentionPolicy } from './policy.js';
import { backup } from './test-manifests.js';

const nothing: RetentionPolicy = { daily: 0, weekly: 0, monthly: 0, yearly: 0, minVerified: 0 };
const now = new Date('2026-11-24T12:00:00.000Z');

function plan(
  manifests: readonly Manifest[],
  policy: Partial<RetentionPolicy>,
  options: { timeZone?: string; dumpRunning?: boolean; target?: string } = {},
): PrunePlan {
  return planPrune({
    target: options.target ?? 'main',
    manifests,
    policy: { ...nothing, ...policy },
    now,
    timeZone: options.timeZone ?? 'UTC',
    ...(options.dumpRunning === undefined ? {} : { dumpRunning: options.dumpRunning }),
  });
}

function keptIds(result: PrunePlan): string[] {
  return result.decisions.filter((decision) => decision.action === 'keep').map((decision) => decision.id);
}

function deletedIds(result: PrunePlan): string[] {
  return result.decisions.filter((decision) => decision.action === 'delete').map((decision) => decision.id);
}

function reasonsOf(result: PrunePlan, id: string): PruneReason[] {
  const decision = result.decisions.find((candidate) => candidate.id === id);
  if (!decision) throw new Error(`no decision for ${id}`);
  return decision.reasons;
}

function slotOf(result: PrunePlan, id: string, kind: 'daily' | 'weekly' | 'monthly' | 'yearly'): string[] {
  return reasonsOf(result, id).flatMap((reason) => (reason.kind === kind ? [reason.period] : []));
}

function expectCode(run: () => unknown, code: string): void {
  try {
    run();
  } catch (error) {
    expect(isBackupError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    return;
  }
  expect.fail(`expected a BackupError ${code}`);
}

describe('planPrune: scope and order', () => {
  it('plans only the manifests of the requested target', () => {
    const result = plan(
      [
        backup('m1', '2026-11-24T02:00:00Z'),
        backup('o1', '2026-11-24T03:00:00Z', 'verified', 'other'),
        backup('o2', '2026-11-20T03:00:00Z', 'failed', 'other'),
        backup('m2', '2026-11-23T02:00:00Z'),
      ],
      {},
    );
    expect(result.decisions.map((decision) => decision.id)).toEqual(['m1', 'm2']);
    expect(result.decisions.every((decision) => decision.target === 'main')).toBe(true);
    // o1 is newer than m1: had it been counted, m1 would not be the newest verified backup.
    expect(reasonsOf(result, 'm1')).toEqual([{ kind: 'newest-verified' }]);
  });

  it('sorts decisions newest first by instant, ties broken by id, whatever the input order', () => {
    const result = plan(
      [
        backup('a', '2026-11-24T10:00:00Z'),
        backup('late', '2026-11-24T10:00:00.500Z'),
        backup('c', '2026-11-23T10:00:00Z'),
        backup('b', '2026-11-24T10:00:00.000Z'),
      ],
      {},
    );
    // As text, '...:00Z' would sort after '...:00.500Z'.
    expect(result.decisions.map((decision) => decision.id)).toEqual(['late', 'b', 'a', 'c']);
  });

  it('records when, where and under which policy it planned, and counts the actions', () => {
    const policy = { ...defaultRetentionPolicy };
    const result = planPrune({
      target: 'main',
      manifests: [backup('a', '2026-11-24T02:00:00Z'), backup('b', '2026-11-20T02:00:00Z', 'failed')],
      policy,
      now,
      timeZone: 'Europe/Paris',
    });
    policy.daily = 99;
    expect(result).toMatchObject({
      target: 'main',
      now: '2026-11-24T12:00:00.000Z',
      timeZone: 'Europe/Paris',
      policy: defaultRetentionPolicy,
      keep: 1,
      delete: 1,
    });
  });

  it('plans nothing for a target without backups', () => {
    expect(plan([], defaultRetentionPolicy)).toMatchObject({ decisions: [], keep: 0, delete: 0 });
  });

  it('uses daily 7, weekly 4, monthly 12, yearly 0, minVerified 3 by default', () => {
    expect(defaultRetentionPolicy).toEqual({ daily: 7, weekly: 4, monthly: 12, yearly: 0, minVerified: 3 });
    expect(Object.isFrozen(defaultRetentionPolicy)).toBe(true);
  });
});

describe('planPrune: slots', () => {
  it('keeps the newest verified backup of each of the last N days that have one', () => {
    const manifests = [
      backup('d24-late', '2026-11-24T02:00:00Z'),
      backup('d24-early', '2026-11-24T01:00:00Z'),
      backup('d23', '2026-11-23T02:00:00Z'),
      backup('d20', '2026-11-20T02:00:00Z'),
      backup('d19', '2026-11-19T02:00:00Z'),
      backup('d10', '2026-11-10T02:00:00Z'),
    ];
    const result = plan(manifests, { daily: 3 });
    expect(keptIds(result)).toEqual(['d24-late', 'd23', 'd20']);
    expect(slotOf(result, 'd24-late', 'daily')).toEqual(['2026-11-24']);
    expect(slotOf(result, 'd23', 'daily')).toEqual(['2026-11-23']);
    // Days 21 and 22 have no backup and use no slot: d20 gets the third.
    expect(slotOf(result, 'd20', 'daily')).toEqual(['2026-11-20']);
    expect(reasonsOf(result, 'd24-early')).toEqual([{ kind: 'outside-policy' }]);
    expect(reasonsOf(result, 'd19')).toEqual([{ kind: 'outside-policy' }]);
  });

  it('fills ISO weeks, Monday to Sunday, labelled by week-year', () => {
    const result = plan(
      [
        backup('tue', '2026-11-24T02:00:00Z'),
        backup('mon', '2026-11-23T02:00:00Z'),
        backup('sun', '2026-11-22T02:00:00Z'),
        backup('prev-mon', '2026-11-16T02:00:00Z'),
        backup('older', '2026-11-09T02:00:00Z'),
      ],
      { weekly: 2 },
    );
    expect(keptIds(result)).toEqual(['tue', 'sun']);
    expect(slotOf(result, 'tue', 'weekly')).toEqual(['2026-W48']);
    expect(slotOf(result, 'sun', 'weekly')).toEqual(['2026-W47']);
  });

  it('fills months and years, and gives a backup every slot it fills', () => {
    const result = plan(
      [
        backup('nov24', '2026-11-24T02:00:00Z'),
        backup('nov01', '2026-11-01T02:00:00Z'),
        backup('oct31', '2026-10-31T02:00:00Z'),
        backup('oct01', '2026-10-01T02:00:00Z'),
        backup('y25-dec', '2025-12-31T02:00:00Z'),
        backup('y25-jun', '2025-06-01T02:00:00Z'),
        backup('y24', '2024-01-01T02:00:00Z'),
      ],
      { daily: 1, monthly: 2, yearly: 3 },
    );
    expect(keptIds(result)).toEqual(['nov24', 'oct31', 'y25-dec', 'y24']);
    expect(reasonsOf(result, 'nov24')).toEqual([
      { kind: 'newest-verified' },
      { kind: 'daily', period: '2026-11-24' },
      { kind: 'monthly', period: '2026-11' },
      { kind: 'yearly', period: '2026' },
    ]);
    expect(slotOf(result, 'oct31', 'monthly')).toEqual(['2026-10']);
    expect(slotOf(result, 'y25-dec', 'yearly')).toEqual(['2025']);
    expect(slotOf(result, 'y24', 'yearly')).toEqual(['2024']);
  });
});

describe('planPrune: floors', () => {
  it('keeps the newest verified backup even with a policy of all zeros', () => {
    const result = plan(
      [
        backup('a', '2026-11-24T02:00:00Z'),
        backup('b', '2026-11-23T02:00:00Z'),
        backup('c', '2026-11-22T02:00:00Z'),
      ],
      nothing,
    );
    expect(keptIds(result)).toEqual(['a']);
    expect(reasonsOf(result, 'a')).toEqual([{ kind: 'newest-verified' }]);
    expect(deletedIds(result)).toEqual(['b', 'c']);
  });

  it('keeps the minVerified newest verified backups even when no slot would', () => {
    const manifests = [
      backup('a', '2026-11-24T03:00:00Z'),
      backup('b', '2026-11-24T02:00:00Z'),
      backup('f', '2026-11-24T01:30:00Z', 'failed'),
      backup('c', '2026-11-24T01:00:00Z'),
      backup('d', '2026-11-24T00:00:00Z'),
    ];
    const result = plan(manifests, { daily: 1, minVerified: 3 });
    expect(keptIds(result)).toEqual(['a', 'b', 'c']);
    expect(reasonsOf(result, 'a')).toEqual([
      { kind: 'newest-verified' },
      { kind: 'min-verified', rank: 1 },
      { kind: 'daily', period: '2026-11-24' },
    ]);
    expect(reasonsOf(result, 'b')).toEqual([{ kind: 'min-verified', rank: 2 }]);
    // The failed backup in between takes no rank.
    expect(reasonsOf(result, 'c')).toEqual([{ kind: 'min-verified', rank: 3 }]);
    expect(deletedIds(result)).toEqual(['f', 'd']);
  });

  it('keeps all verified backups when there are fewer than minVerified', () => {
    const result = plan([backup('a', '2026-11-24T03:00:00Z'), backup('b', '2020-01-01T00:00:00Z')], {
      minVerified: 5,
    });
    expect(deletedIds(result)).toEqual([]);
    expect(reasonsOf(result, 'b')).toEqual([{ kind: 'min-verified', rank: 2 }]);
  });
});

describe('planPrune: backups that are not verified', () => {
  it('never lets a failed, suspicious or unverified backup fill a slot', () => {
    const result = plan(
      [
        backup('d24-ok', '2026-11-24T01:00:00Z'),
        backup('d23-suspicious', '2026-11-23T05:00:00Z', 'suspicious'),
        backup('d23-ok', '2026-11-23T02:00:00Z'),
        backup('d22-rechecked-bad', '2026-11-22T05:00:00Z', 'reverified-failed'),
        backup('d22-unverified', '2026-11-22T04:00:00Z', 'unverified'),
        backup('d21-recovered', '2026-11-21T05:00:00Z', 'failed-then-verified'),
      ],
      { daily: 3 },
    );
    expect(slotOf(result, 'd23-ok', 'daily')).toEqual(['2026-11-23']);
    // Day 22 has no verified backup, so the third slot goes to day 21, whose latest check passed.
    expect(slotOf(result, 'd21-recovered', 'daily')).toEqual(['2026-11-21']);
    expect(keptIds(result)).toEqual(['d24-ok', 'd23-ok', 'd21-recovered']);
    for (const id of ['d23-suspicious', 'd22-rechecked-bad', 'd22-unverified']) {
      expect(reasonsOf(result, id)).toEqual([{ kind: 'not-verified-superseded' }]);
    }
  });

  it('keeps backups newer than the newest verified one as pending, ties included', () => {
    const result = plan(
      [
        backup('running-check', '2026-11-24T04:00:00Z', 'unverified'),
        backup('failed-new', '2026-11-24T03:00:00Z', 'failed'),
        backup('suspicious-new', '2026-11-24T02:30:00Z', 'suspicious'),
        backup('same-instant', '2026-11-24T02:00:00Z', 'unverified'),
        backup('ok', '2026-11-24T02:00:00Z'),
        backup('failed-old', '2026-11-24T01:00:00Z', 'failed'),
      ],
      { daily: 7 },
    );
    for (const id of ['running-check', 'failed-new', 'suspicious-new', 'same-instant']) {
      expect(reasonsOf(result, id)).toEqual([{ kind: 'pending' }]);
    }
    expect(deletedIds(result)).toEqual(['failed-old']);
  });

  it('deletes nothing from a target that has no verified backup', () => {
    const result = plan(
      [
        backup('f', '2026-11-24T02:00:00Z', 'failed'),
        backup('s', '2026-11-23T02:00:00Z', 'suspicious'),
        backup('u', '2026-11-22T02:00:00Z', 'unverified'),
        backup('r', '2026-11-21T02:00:00Z', 'reverified-failed'),
        backup('ok-elsewhere', '2026-11-25T02:00:00Z', 'verified', 'other'),
      ],
      defaultRetentionPolicy,
    );
    expect(result.delete).toBe(0);
    expect(result.decisions.map((decision) => decision.reasons)).toEqual(
      Array.from({ length: 4 }, () => [{ kind: 'no-verified-backup' }]),
    );
  });
});

describe('planPrune: a dump is running', () => {
  it('keeps everything, including what it would otherwise delete', () => {
    const manifests = [
      backup('a', '2026-11-24T02:00:00Z'),
      backup('b', '2026-11-23T02:00:00Z'),
      backup('f', '2026-11-22T02:00:00Z', 'failed'),
    ];
    expect(plan(manifests, nothing).delete).toBe(2);
    const result = plan(manifests, nothing, { dumpRunning: true });
    expect(result.delete).toBe(0);
    expect(result.decisions.map((decision) => decision.reasons)).toEqual([
      [{ kind: 'dump-running' }],
      [{ kind: 'dump-running' }],
      [{ kind: 'dump-running' }],
    ]);
  });
});

describe('planPrune: calendar periods in the time zone', () => {
  // A backup at 00:30 and one at 23:30 local on a DST day, plus one at noon the day before.
  // Daily 2 keeps the DST day's 23:30 and the day before's noon; 00:30 shares the DST day.
  it.each([
    {
      zone: 'Europe/Paris',
      name: 'spring forward, last Sunday of March',
      day: '2026-03-29',
      before: '2026-03-28',
      early: '2026-03-28T23:30:00Z', // 00:30 CET (+01)
      late: '2026-03-29T21:30:00Z', // 23:30 CEST (+02)
      noonBefore: '2026-03-28T11:00:00Z',
    },
    {
      zone: 'Europe/Paris',
      name: 'fall back, last Sunday of October',
      day: '2026-10-25',
      before: '2026-10-24',
      early: '2026-10-24T22:30:00Z', // 00:30 CEST (+02)
      late: '2026-10-25T22:30:00Z', // 23:30 CET (+01)
      noonBefore: '2026-10-24T10:00:00Z',
    },
    {
      zone: 'America/New_York',
      name: 'spring forward, second Sunday of March',
      day: '2026-03-08',
      before: '2026-03-07',
      early: '2026-03-08T05:30:00Z', // 00:30 EST (-05)
      late: '2026-03-09T03:30:00Z', // 23:30 EDT (-04)
      noonBefore: '2026-03-07T17:00:00Z',
    },
    {
      zone: 'America/New_York',
      name: 'fall back, first Sunday of November',
      day: '2026-11-01',
      before: '2026-10-31',
      early: '2026-11-01T04:30:00Z', // 00:30 EDT (-04)
      late: '2026-11-02T04:30:00Z', // 23:30 EST (-05)
      noonBefore: '2026-10-31T16:00:00Z',
    },
  ])('$zone $name: 00:30 and 23:30 local are one day', ({ zone, day, before, early, late, noonBefore }) => {
    const manifests = [backup('late', late), backup('early', early), backup('noon-before', noonBefore)];
    const result = plan(manifests, { daily: 2 }, { timeZone: zone });
    expect(keptIds(result)).toEqual(['late', 'noon-before']);
    expect(slotOf(result, 'late', 'daily')).toEqual([day]);
    expect(slotOf(result, 'noon-before', 'daily')).toEqual([before]);
    expect(reasonsOf(result, 'early')).toEqual([{ kind: 'outside-policy' }]);
  });

  it('America/New_York: both 01:30s of the repeated hour fall on the same day', () => {
    const result = plan(
      [
        backup('second-0130', '2026-11-01T06:30:00Z'), // 01:30 EST
        backup('first-0130', '2026-11-01T05:30:00Z'), // 01:30 EDT
        backup('saturday', '2026-10-31T16:00:00Z'),
      ],
      { daily: 2 },
      { timeZone: 'America/New_York' },
    );
    expect(keptIds(result)).toEqual(['second-0130', 'saturday']);
    expect(slotOf(result, 'second-0130', 'daily')).toEqual(['2026-11-01']);
  });

  it('UTC and Asia/Tokyo put the same instants on different days', () => {
    const manifests = [backup('evening', '2026-11-24T20:00:00Z'), backup('morning', '2026-11-24T10:00:00Z')];
    const utc = plan(manifests, { daily: 5 }, { timeZone: 'UTC' });
    expect(keptIds(utc)).toEqual(['evening']);
    expect(slotOf(utc, 'evening', 'daily')).toEqual(['2026-11-24']);

    const tokyo = plan(manifests, { daily: 5 }, { timeZone: 'Asia/Tokyo' });
    expect(keptIds(tokyo)).toEqual(['evening', 'morning']);
    expect(slotOf(tokyo, 'evening', 'daily')).toEqual(['2026-11-25']); // 05:00 JST
    expect(slotOf(tokyo, 'morning', 'daily')).toEqual(['2026-11-24']); // 19:00 JST
  });

  it('Asia/Tokyo moves a New Year Eve backup into the next day, month and year', () => {
    const manifests = [backup('nye', '2026-12-31T20:00:00Z')];
    const policy = { daily: 1, weekly: 1, monthly: 1, yearly: 1 };
    expect(reasonsOf(plan(manifests, policy, { timeZone: 'UTC' }), 'nye').slice(1)).toEqual([
      { kind: 'daily', period: '2026-12-31' },
      { kind: 'weekly', period: '2026-W53' },
      { kind: 'monthly', period: '2026-12' },
      { kind: 'yearly', period: '2026' },
    ]);
    expect(reasonsOf(plan(manifests, policy, { timeZone: 'Asia/Tokyo' }), 'nye').slice(1)).toEqual([
      { kind: 'daily', period: '2027-01-01' },
      { kind: 'weekly', period: '2026-W53' },
      { kind: 'monthly', period: '2027-01' },
      { kind: 'yearly', period: '2027' },
    ]);
  });
});

describe('planPrune: ISO week-years', () => {
  it.each([
    ['2026-12-31', '2026-W53'],
    ['2027-01-01', '2026-W53'],
    ['2027-01-03', '2026-W53'],
    ['2027-01-04', '2027-W01'],
    ['2025-12-29', '2026-W01'],
    ['2024-12-30', '2025-W01'],
    ['2020-12-31', '2020-W53'],
    ['2021-01-03', '2020-W53'],
    ['2021-01-04', '2021-W01'],
    ['2008-12-29', '2009-W01'],
  ])('%s is in %s', (day, week) => {
    const result = plan([backup('x', `${day}T12:00:00Z`)], { weekly: 1 });
    expect(slotOf(result, 'x', 'weekly')).toEqual([week]);
  });

  it('one slot for the days of a week that straddles New Year', () => {
    const result = plan(
      [
        backup('mon', '2027-01-04T12:00:00Z'),
        backup('sun', '2027-01-03T12:00:00Z'),
        backup('thu', '2026-12-31T12:00:00Z'),
        backup('prev-sun', '2026-12-27T12:00:00Z'),
      ],
      { weekly: 2 },
    );
    expect(keptIds(result)).toEqual(['mon', 'sun']);
    expect(slotOf(result, 'sun', 'weekly')).toEqual(['2026-W53']);
  });

  it('a Sunday-night UTC backup is already Monday, a new week-year, in Tokyo', () => {
    const manifests = [backup('x', '2027-01-03T23:30:00Z')];
    expect(slotOf(plan(manifests, { weekly: 1 }, { timeZone: 'UTC' }), 'x', 'weekly')).toEqual(['2026-W53']);
    expect(slotOf(plan(manifests, { weekly: 1 }, { timeZone: 'Asia/Tokyo' }), 'x', 'weekly')).toEqual([
      '2027-W01',
    ]);
  });
});

describe('planPrune: bad input', () => {
  it('rejects an unknown or empty time zone with CONFIG_INVALID, even with nothing to plan', () => {
    expectCode(() => plan([], nothing, { timeZone: 'Mars/Olympus_Mons' }), 'CONFIG_INVALID');
    expectCode(() => plan([], nothing, { timeZone: '' }), 'CONFIG_INVALID');
  });

  it('rejects negative, fractional or missing policy counts with CONFIG_INVALID', () => {
    expectCode(() => plan([], { daily: -1 }), 'CONFIG_INVALID');
    expectCode(() => plan([], { weekly: 1.5 }), 'CONFIG_INVALID');
    expectCode(() => plan([], { minVerified: Number.NaN }), 'CONFIG_INVALID');
    expectCode(() => plan([], { monthly: undefined as unknown as number }), 'CONFIG_INVALID');
  });

  it('rejects an id listed twice for the target with MANIFEST_INVALID', () => {
    expectCode(
      () =>
        plan([backup('a', '2026-11-24T02:00:00Z'), backup('a', '2026-11-20T02:00:00Z', 'failed')], nothing),
      'MANIFEST_INVALID',
    );
    // The same id under another target is another backup.
    expect(() =>
      plan(
        [backup('a', '2026-11-24T02:00:00Z'), backup('a', '2026-11-20T02:00:00Z', 'verified', 'other')],
        nothing,
      ),
    ).not.toThrow();
  });
});

describe('describeReason', () => {
  it.each<[PruneReason, string]>([
    [{ kind: 'daily', period: '2026-11-24' }, 'daily slot 2026-11-24'],
    [{ kind: 'weekly', period: '2026-W48' }, 'weekly slot 2026-W48'],
    [{ kind: 'monthly', period: '2026-11' }, 'monthly slot 2026-11'],
    [{ kind: 'yearly', period: '2026' }, 'yearly slot 2026'],
    [{ kind: 'newest-verified' }, 'newest verified backup'],
    [{ kind: 'min-verified', rank: 2 }, 'minimum verified backups kept (rank 2)'],
    [{ kind: 'pending' }, 'newer than the newest verified backup, verification may be pending'],
    [{ kind: 'no-verified-backup' }, 'target has no verified backup, nothing is deleted'],
    [{ kind: 'outside-policy' }, 'verified, fills no retention slot'],
    [
      { kind: 'not-verified-superseded' },
      'not verified (failed, suspicious or unchecked) and older than the newest verified backup',
    ],
    [{ kind: 'dump-running' }, 'a dump of this target is running, nothing is deleted'],
  ])('%o reads "%s"', (reason, text) => {
    expect(describeReason(reason)).toBe(text);
  });
});
