import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { naiveLocalDate } from '../test-support/naive-calendar.js';
import { civilFromDays } from './calendar.js';
import { localDayCalculator } from './local-day.js';

/** The local date the slow, obvious way: one formatter call per instant. */
function naiveDate(epochMs: number, timeZone: string): string {
  const { year, month, day } = naiveLocalDate(epochMs, timeZone);
  return `${year}-${month}-${day}`;
}

function cachedDate(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

describe('localDayCalculator', () => {
  it('agrees with a per-instant Intl call in every IANA zone, 1970 to 2100', () => {
    const allZones = Intl.supportedValuesOf('timeZone');
    const instants = fc.array(fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }), {
      minLength: 1,
      maxLength: 30,
    });
    fc.assert(
      fc.property(fc.constantFrom(...allZones), instants, (timeZone, epochs) => {
        const localDayOf = localDayCalculator(timeZone);
        for (const epochMs of epochs)
          expect(cachedDate(localDayOf(epochMs))).toBe(naiveDate(epochMs, timeZone));
      }),
      { numRuns: 1000 },
    );
  });

  // Every half hour of 2026 (and of Apia's skipped 2011-12-30) passes every transition of the year,
  // probed at, just before and just after the half hour.
  it.each([
    ['Europe/Paris', 2026],
    ['America/New_York', 2026],
    ['Australia/Lord_Howe', 2026],
    ['America/Santiago', 2026],
    ['Pacific/Chatham', 2026],
    ['America/St_Johns', 2026],
    ['Pacific/Apia', 2011],
  ])('agrees with Intl around every transition of %s in %i', (timeZone, year) => {
    const localDayOf = localDayCalculator(timeZone);
    const mismatches: string[] = [];
    for (let epochMs = Date.UTC(year, 0, 1); epochMs < Date.UTC(year + 1, 0, 1); epochMs += 1_800_000) {
      for (const probe of [epochMs - 1, epochMs, epochMs + 1]) {
        const expected = naiveDate(probe, timeZone);
        if (cachedDate(localDayOf(probe)) !== expected) mismatches.push(new Date(probe).toISOString());
      }
    }
    expect(mismatches).toEqual([]);
  });
});
