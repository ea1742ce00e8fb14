import type { RetentionPolicy } from '../prune/policy.js';
import { closest } from './levenshtein.js';
import { describeType, fail, failMany, type Issue, ok, type Parsed } from './parsed.js';
import { invalidValue, quote } from './problems.js';

export type { RetentionPolicy };

export const defaultRetentionText = 'daily=7,weekly=4,monthly=12';
export const retentionExpected =
  'daily=N,weekly=N,monthly=N (for example daily=7,weekly=4,monthly=12), or 0 (local only: keep each backup until every destination has a confirmed copy)';
const objectExpected =
  'a mapping {daily, weekly, monthly, yearly?, minVerified?} of whole numbers (for example {daily: 7, weekly: 4, monthly: 12}) or the text daily=7,weekly=4,monthly=12';

type Field = Exclude<keyof RetentionPolicy, 'untilCopied'>;
// Required so that `daily=30` alone does not silently keep the defaults (or nothing) for the rest.
const required = ['daily', 'weekly', 'monthly'] as const satisfies readonly Field[];
const optionalDefaults = { yearly: 0, minVerified: 3 } as const;
const textKeys: Record<string, Field> = {
  daily: 'daily',
  weekly: 'weekly',
  monthly: 'monthly',
  yearly: 'yearly',
  min: 'minVerified',
  minverified: 'minVerified',
};
const objectKeys: readonly Field[] = ['daily', 'weekly', 'monthly', 'yearly', 'minVerified'];

/** Retention `0`: keep only until copied (prune/local-plan.ts); the counts play no part. */
export const untilCopiedPolicy: RetentionPolicy = Object.freeze({
  daily: 0,
  weekly: 0,
  monthly: 0,
  yearly: 0,
  minVerified: 1,
  untilCopied: true,
});

/**
 * `daily=7,weekly=4,monthly=12[,yearly=N][,min=N]`; every count a whole number, min at least 1.
 * `0` alone is "keep only until copied" (untilCopiedPolicy).
 */
export function retentionValue(text: string): Parsed<RetentionPolicy> {
  if (text.trim() === '0') return ok({ ...untilCopiedPolicy });
  const found: Partial<RetentionPolicy> = {};
  const issues: Issue[] = [];
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  for (const part of parts) {
    const [rawKey = '', rawCount, ...rest] = part.split('=');
    if (rawCount === undefined || rest.length > 0) {
      issues.push({ problem: `${quote(part)} is not key=count` });
      continue;
    }
    const key = rawKey.trim().toLowerCase();
    const field = textKeys[key];
    if (field === undefined) {
      const guess = closest(key, Object.keys(textKeys));
      const hint = guess === undefined ? '' : ` (did you mean ${guess}?)`;
      issues.push({
        problem: `${quote(rawKey.trim())} is not a retention key${hint}; keys are daily, weekly, monthly, yearly, min`,
      });
      continue;
    }
    if (found[field] !== undefined) {
      issues.push({ problem: `${key} is given twice` });
      continue;
    }
    const count = rawCount.trim();
    if (!/^\d+$/.test(count) || !Number.isSafeInteger(Number(count))) {
      issues.push({ problem: `'${count}' is not a whole number` });
      continue;
    }
    found[field] = Number(count);
  }
  if (parts.length === 0) issues.push({ problem: 'is empty' });
  else if (issues.length === 0) {
    const missing = missingFields(found);
    if (missing) issues.push({ problem: missing });
  }
  if (found.minVerified === 0) {
    issues.push({ problem: minProblem('min'), expected: 'min=N with N at least 1 (for example min=3)' });
  }
  return issues.length > 0 ? failMany(issues) : ok(complete(found));
}

/** The config file may also hold the policy as a mapping, with the field names of the type. */
export function retentionFromFile(raw: unknown): Parsed<RetentionPolicy> {
  if (typeof raw === 'string') return retentionValue(raw);
  if (raw === 0) return ok({ ...untilCopiedPolicy });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(`is ${describeType(raw)}`, { expected: objectExpected });
  }
  const found: Partial<RetentionPolicy> = {};
  const issues: Issue[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const field = objectKeys.find((candidate) => candidate === key);
    if (field === undefined) {
      const guess = closest(key, objectKeys);
      const hint = guess === undefined ? '' : ` (did you mean ${guess}?)`;
      issues.push({
        problem: `is not a known key${hint}`,
        path: [key],
        expected: `one of ${objectKeys.join(', ')}`,
      });
    } else if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      issues.push({
        problem: 'is not a whole number',
        path: [key],
        expected: 'a whole number >= 0, for example 7',
      });
    } else if (field === 'minVerified' && value === 0) {
      issues.push({
        problem: minProblem('minVerified'),
        path: [key],
        expected: 'a whole number >= 1, for example 3',
      });
    } else found[field] = value;
  }
  const missing = issues.length === 0 ? missingFields(found) : undefined;
  if (missing) issues.push({ problem: missing, expected: objectExpected });
  return issues.length > 0 ? failMany(issues) : ok(complete(found));
}

function minProblem(key: string): string {
  return `${key}=0 would let pruning delete every verified backup`;
}

function missingFields(found: Partial<RetentionPolicy>): string | undefined {
  const missing = required.filter((field) => found[field] === undefined);
  if (missing.length === 0) return undefined;
  return `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} missing`;
}

function complete(found: Partial<RetentionPolicy>): RetentionPolicy {
  return {
    daily: found.daily ?? 0,
    weekly: found.weekly ?? 0,
    monthly: found.monthly ?? 0,
    yearly: found.yearly ?? optionalDefaults.yearly,
    minVerified: found.minVerified ?? optionalDefaults.minVerified,
  };
}

/** Parses the text form (`daily=7,weekly=4,monthly=12,yearly=2,min=3`); throws CONFIG_INVALID. */
export function parseRetention(text: string): RetentionPolicy {
  const parsed = retentionValue(text);
  if (parsed.ok) return parsed.value;
  throw invalidValue('retention', text, parsed.issues, retentionExpected);
}
