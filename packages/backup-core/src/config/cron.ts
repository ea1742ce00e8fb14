import { CronExpressionParser } from 'cron-parser';
import { BackupError } from '../errors.js';
import { fail, type Issue, ok, type Parsed } from './parsed.js';
import { ProblemList, quote } from './problems.js';

export const cronExpected =
  'a cron expression with 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, for example "0 2 * * *" (every day at 02:00)';
export const timeZoneExpected = 'an IANA time zone, for example UTC or Europe/Paris';

/** Any fixed instant works for checking syntax; a fixed one keeps errors reproducible. */
const syntaxCheckDate = new Date('2000-01-01T00:00:00Z');

/**
 * Checks the syntax and returns the expression with its whitespace normalised. cron-parser
 * alone accepts 1 to 4 fields (filling the rest), macros such as `@daily` and `H` (a random
 * value per process unless seeded): the first two are not what the contract promises users
 * and scripts, and `H` would move a target's schedule and staleness limit on every restart.
 */
export function cronValue(expression: string): Parsed<string> {
  const fields = expression
    .trim()
    .split(/\s+/)
    .filter((field) => field !== '');
  if (fields.length === 0) return fail('is empty');
  if (fields[0]?.startsWith('@')) return fail('shortcuts such as @daily are not supported');
  if (fields.length !== 5 && fields.length !== 6) {
    return fail(`has ${fields.length} field${fields.length === 1 ? '' : 's'}`);
  }
  const hashed = fields.some((field) => field.split(',').some((part) => /^h/i.test(part)));
  if (hashed) return fail('uses H (a random value), which would change the schedule on every restart');
  const normalised = fields.join(' ');
  try {
    CronExpressionParser.parse(normalised, { tz: 'UTC', currentDate: syntaxCheckDate }).next();
  } catch (error) {
    return fail(`is not a valid cron expression (${errorText(error)})`);
  }
  return ok(normalised);
}

/** Returns the zone's canonical name (`europe/paris` becomes `Europe/Paris`). */
export function timeZoneValue(zone: string): Parsed<string> {
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone.trim() }).resolvedOptions().timeZone;
  } catch {
    return fail('is not a known time zone');
  }
  try {
    // The scheduler must understand the zone too, not only Intl.
    CronExpressionParser.parse('0 0 * * *', { tz: canonical, currentDate: syntaxCheckDate }).next();
  } catch {
    return fail('is not a time zone the scheduler supports');
  }
  return ok(canonical);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Throws CONFIG_INVALID naming every problem of the expression and of the zone. */
export function validateCron(expression: string, timeZone: string): void {
  const problems = new ProblemList();
  const cron = cronValue(expression);
  if (!cron.ok) add(problems, 'schedule', expression, cron.issues, cronExpected);
  const zone = timeZoneValue(timeZone);
  if (!zone.ok) add(problems, 'time zone', timeZone, zone.issues, timeZoneExpected);
  if (problems.count > 0) throw problems.toError();
}

function add(problems: ProblemList, where: string, value: string, issues: Issue[], expected: string): void {
  problems.addIssues(issues, { where, value: quote(value), source: 'config', expected });
}

/**
 * The next `count` times the schedule fires after `from` (default: now), computed in `timeZone`
 * so that `0 2 * * *` in Europe/Paris stays at 02:00 local time across daylight-saving changes.
 */
export function nextRuns(
  expression: string,
  timeZone: string,
  count: number,
  from: Date = new Date(),
): Date[] {
  validateCron(expression, timeZone);
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new BackupError('CONFIG_INVALID', `count=${quote(count)}: expected a whole number >= 0`);
  }
  const zone = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  const interval = CronExpressionParser.parse(expression.trim().split(/\s+/).join(' '), {
    tz: zone,
    currentDate: from,
  });
  const runs: Date[] = [];
  while (runs.length < count && interval.hasNext()) runs.push(interval.next().toDate());
  return runs;
}

const hourMs = 3_600_000;

/**
 * How long a target may go without a verified backup before it counts as stale, when no max age
 * is configured: twice the longest gap between the next 10 runs (one missed run is tolerated,
 * two are not), plus an hour for the dump and its verification to finish.
 */
export function defaultMaxAgeMs(expression: string, timeZone: string, from: Date = new Date()): number {
  const runs = nextRuns(expression, timeZone, 10, from);
  let longest = 0;
  for (let index = 1; index < runs.length; index++) {
    const gap = (runs[index]?.getTime() ?? 0) - (runs[index - 1]?.getTime() ?? 0);
    longest = Math.max(longest, gap);
  }
  return 2 * longest + hourMs;
}
