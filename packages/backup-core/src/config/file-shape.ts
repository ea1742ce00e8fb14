import { closest } from './levenshtein.js';
import { type ConfigProblem, formatPath } from './problems.js';

/** Helpers for walking the parsed config file, shared by the top level and the target entries. */

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function valueAt(raw: unknown, inner: ReadonlyArray<string | number>): unknown {
  let value = raw;
  for (const part of inner)
    value = isMapping(value) || Array.isArray(value) ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

/** Typos such as `retension` are errors, not silently ignored keys. */
export function unknownKey(
  label: string,
  keyPath: ReadonlyArray<string | number>,
  known: readonly string[],
  exact?: string,
): ConfigProblem {
  const key = String(keyPath.at(-1));
  const guess = exact ?? closest(key, known);
  const hint = guess === undefined ? '' : ` (did you mean ${guess}?)`;
  return {
    where: `${label}: ${formatPath(keyPath, false)}`,
    problem: `is not a known key${hint}; expected one of ${known.join(', ')}`,
    source: 'file',
  };
}
