/**
 * What a value parser returns. Parsers never throw: the loader collects every problem of every
 * variable and reports them together, so one bad value does not hide the next.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

export interface Issue {
  /** What is wrong, without the value's name (the caller knows where the value came from). */
  problem: string;
  /** Inside a structured file value (for example a retention mapping), where the problem is. */
  path?: ReadonlyArray<string | number>;
  /** Replaces the setting's usual expectation when the problem is about a part of the value. */
  expected?: string;
}

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function fail<T = never>(problem: string, extra: Omit<Issue, 'problem'> = {}): Parsed<T> {
  return { ok: false, issues: [{ problem, ...extra }] };
}

export function failMany<T = never>(issues: Issue[]): Parsed<T> {
  return { ok: false, issues };
}

/** How a file value that is neither text nor what the setting accepts is described. */
export function describeType(raw: unknown): string {
  if (raw === null) return 'empty';
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'a mapping';
  return `a ${typeof raw}`;
}
