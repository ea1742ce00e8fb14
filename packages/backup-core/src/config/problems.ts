import { BackupError } from '../errors.js';
import type { Issue } from './parsed.js';

/** One line of the CONFIG_INVALID message. Never holds a secret: values are redacted before. */
export interface ConfigProblem {
  /** The variable's name, or `file: key.path` for a value from the config file. */
  where: string;
  /** The offending value as shown to the user (quoted, redacted), when there is one. */
  value?: string;
  /** What is wrong and what is expected. */
  problem: string;
  /** Which layer the value came from, so the CLI can name its flag instead of the variable. */
  source: 'override' | 'env' | 'file' | 'config';
}

export function formatProblem(problem: ConfigProblem): string {
  const value = problem.value === undefined ? '' : `=${problem.value}`;
  return `${problem.where}${value}: ${problem.problem}`;
}

const SHOWN_CHARACTERS = 120;

/**
 * JSON quoting keeps spaces, empty strings and control characters visible in a one-line message;
 * a long value is cut, so a pasted megabyte does not become a megabyte of error message.
 */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= SHOWN_CHARACTERS
    ? text
    : `${text.slice(0, SHOWN_CHARACTERS)}… (${text.length} characters)`;
}

export class ProblemList {
  readonly items: ConfigProblem[] = [];

  get count(): number {
    return this.items.length;
  }

  add(problem: ConfigProblem): void {
    this.items.push(problem);
  }

  /** Turns a parser's issues into problems; `expected` is appended unless the issue has its own. */
  addIssues(
    issues: readonly Issue[],
    at: { where: string; value?: string; source: ConfigProblem['source']; expected: string },
    valueAt?: (path: ReadonlyArray<string | number>) => string | undefined,
  ): void {
    for (const issue of issues) {
      const nested = issue.path !== undefined && issue.path.length > 0;
      const where = nested ? `${at.where}${formatPath(issue.path ?? [])}` : at.where;
      const value = nested && valueAt ? valueAt(issue.path ?? []) : at.value;
      const problem = `${issue.problem}; expected ${issue.expected ?? at.expected}`;
      this.add({ where, ...(value === undefined ? {} : { value }), problem, source: at.source });
    }
  }

  /** One CONFIG_INVALID error with a line per problem; `details.problems` carries them structured. */
  toError(): BackupError {
    return new BackupError('CONFIG_INVALID', this.items.map(formatProblem).join('\n'), {
      details: { problems: this.items.map((item) => ({ ...item })) },
    });
  }
}

/** `targets[1].retention.daily` style, as a user would write it in a question or a grep. */
export function formatPath(path: ReadonlyArray<string | number>, leadingDot = true): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' && !leadingDot ? part : `.${part}`;
  }
  return text;
}

/** The error the public one-value parsers (`parseDuration`, `parseRetention`, ...) throw. */
export function invalidValue(
  where: string,
  value: string,
  issues: readonly Issue[],
  expected: string,
): BackupError {
  const list = new ProblemList();
  list.addIssues(issues, { where, value: quote(value), source: 'config', expected });
  return list.toError();
}
