import { describeType, fail, failMany, type Issue, ok, type Parsed } from './parsed.js';

/** Which databases of a server a target backs up: every one, or those matching a pattern. */
export type DatabasesValue = 'all' | string[];

export const databasesExpected =
  'all, or database name patterns (* any characters, ? one) separated by commas, for example all or app_*,reporting';
export const excludeExpected =
  'database name patterns (* any characters, ? one) separated by commas, for example test_*,scratch';

/** `all`, or a comma-separated list of patterns (a variable, or text in the file). */
export function databasesValue(text: string): Parsed<DatabasesValue> {
  if (text.trim() === 'all') return ok('all');
  return patternList(text);
}

export function excludeValue(text: string): Parsed<string[]> {
  return text.trim() === '' ? ok([]) : patternList(text);
}

/** In the file: `databases: all` (text, read above) or a list of patterns. */
export function databasesFromFile(raw: unknown): Parsed<DatabasesValue> {
  return patternArray(raw);
}

export function excludeFromFile(raw: unknown): Parsed<string[]> {
  return patternArray(raw);
}

function patternList(text: string): Parsed<string[]> {
  const patterns = text.split(',').map((part) => part.trim());
  if (patterns.some((pattern) => pattern === '')) return fail('has an empty pattern');
  return ok(patterns);
}

/** A YAML list: each item a non-empty text (a database name may hold commas, a list item may too). */
function patternArray(raw: unknown): Parsed<string[]> {
  if (!Array.isArray(raw)) return fail(`is ${describeType(raw)}`);
  if (raw.length === 0) return fail('is an empty list');
  const issues: Issue[] = [];
  const patterns: string[] = [];
  raw.forEach((item: unknown, index) => {
    if (typeof item === 'string' && item !== '') patterns.push(item);
    else
      issues.push({
        problem: `is ${typeof item === 'string' ? 'empty' : describeType(item)}`,
        path: [index],
        expected: 'a database name pattern, for example app_*',
      });
  });
  return issues.length > 0 ? failMany(issues) : ok(patterns);
}
