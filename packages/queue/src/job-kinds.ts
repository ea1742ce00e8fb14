import type { z } from 'zod';
import {
  copyJobData,
  discoverJobData,
  drillJobData,
  dumpJobData,
  pruneJobData,
  restoreJobData,
  verifyJobData,
} from './job-data.js';
import {
  copyJobResult,
  discoverJobResult,
  drillJobResult,
  dumpJobResult,
  pruneJobResult,
  restoreJobResult,
  verifyJobResult,
} from './job-results.js';
import { type JobName, jobNames } from './names.js';

/**
 * Every job kind, declared once: what it takes (checked when a worker picks the job up) and what it
 * returns (checked by every reader of a completed job). A new kind is one line here.
 */
export const jobKinds = {
  [jobNames.dump]: { data: dumpJobData, result: dumpJobResult },
  [jobNames.verify]: { data: verifyJobData, result: verifyJobResult },
  [jobNames.copy]: { data: copyJobData, result: copyJobResult },
  [jobNames.prune]: { data: pruneJobData, result: pruneJobResult },
  [jobNames.restore]: { data: restoreJobData, result: restoreJobResult },
  [jobNames.drill]: { data: drillJobData, result: drillJobResult },
  [jobNames.discover]: { data: discoverJobData, result: discoverJobResult },
} as const satisfies Record<JobName, { data: z.ZodType; result: z.ZodType }>;

export type ParsedJobData<N extends JobName> = z.output<(typeof jobKinds)[N]['data']>;
export type JobResult<N extends JobName> = z.output<(typeof jobKinds)[N]['result']>;

/** Parses a job's data; the error names each wrong field and what was expected. */
export function parseJobData<N extends JobName>(name: N, data: unknown): ParsedJobData<N> {
  const result = jobKinds[name].data.safeParse(data);
  if (result.success) return result.data as ParsedJobData<N>;
  // Bounded: the reason is stored in Redis and shown in logs, and a payload with 10,000 unknown
  // keys would otherwise list every one of them (about 100 kB).
  const issues = result.error.issues;
  const problems = issues
    .slice(0, MAX_ISSUES_SHOWN)
    .map((issue) => `${issue.path.length ? issue.path.slice(0, 5).join('.') : '(data)'}: ${issueText(issue)}`)
    .join('; ');
  const more = issues.length > MAX_ISSUES_SHOWN ? `; and ${issues.length - MAX_ISSUES_SHOWN} more` : '';
  throw new InvalidJobDataError(`invalid ${name} job data: ${problems}${more}`);
}

const MAX_ISSUES_SHOWN = 5;
const MAX_KEYS_SHOWN = 5;

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys' && issue.keys.length > MAX_KEYS_SHOWN) {
    const shown = issue.keys.slice(0, MAX_KEYS_SHOWN).map((key) => JSON.stringify(key.slice(0, 40)));
    return `Unrecognized keys: ${shown.join(', ')} and ${issue.keys.length - MAX_KEYS_SHOWN} more`;
  }
  return issue.message.length > 200 ? `${issue.message.slice(0, 200)}…` : issue.message;
}

export class InvalidJobDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJobDataError';
  }
}

export class JobResultInvalidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobResultInvalidError';
  }
}

/** Parses a completed job's return value; the error names the job and the first wrong fields. */
export function parseJobResult<N extends JobName>(
  name: N,
  jobId: string | undefined,
  value: unknown,
): JobResult<N> {
  const result = jobKinds[name].result.safeParse(value);
  if (result.success) return result.data as JobResult<N>;
  const problems = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`)
    .join('; ');
  throw new JobResultInvalidError(
    `${name} job ${jobId ?? '?'} returned a value of an unexpected shape (${problems}): was it run by a worker of another version?`,
  );
}
