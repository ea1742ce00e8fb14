import { civilFromDays, isoWeek, isoWeekMonday } from './calendar.js';

/** The kinds of slot, in the order reasons are listed. Named like the policy fields they read. */
export const periodKinds = ['daily', 'weekly', 'monthly', 'yearly'] as const;
export type PeriodKind = (typeof periodKinds)[number];

/**
 * A number naming the period of `kind` that local day `days` falls in: two days share a period
 * exactly when their keys are equal. Numbers, not labels, because this runs for every verified
 * backup and labels are needed only for the few that fill a slot.
 */
export function periodKey(kind: PeriodKind, days: number): number {
  switch (kind) {
    case 'daily':
      return days;
    case 'weekly':
      return isoWeekMonday(days);
    case 'monthly': {
      const { year, month } = civilFromDays(days);
      return year * 12 + month - 1;
    }
    case 'yearly':
      return civilFromDays(days).year;
  }
}

/** '2026-11-24', '2026-W48', '2026-11', '2026'. */
export function periodLabel(kind: PeriodKind, days: number): string {
  switch (kind) {
    case 'daily': {
      const { year, month, day } = civilFromDays(days);
      return `${formatYear(year)}-${pad2(month)}-${pad2(day)}`;
    }
    case 'weekly': {
      const { weekYear, week } = isoWeek(days);
      return `${formatYear(weekYear)}-W${pad2(week)}`;
    }
    case 'monthly': {
      const { year, month } = civilFromDays(days);
      return `${formatYear(year)}-${pad2(month)}`;
    }
    case 'yearly':
      return formatYear(civilFromDays(days).year);
  }
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

/** ISO 8601 years: four digits, a sign only before year 0 (which a manifest date cannot reach in practice). */
function formatYear(year: number): string {
  return year < 0 ? `-${String(-year).padStart(4, '0')}` : String(year).padStart(4, '0');
}
