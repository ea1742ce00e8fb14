import { findTarget } from '@pgbackup/backup-core';
import { targetOfJob } from '@pgbackup/queue';
import type { Job } from 'bullmq';
import type { CliContext } from '../context.js';
import { CliError, exitCodes } from '../exit-codes.js';
import { humanAge, table } from '../output.js';
import { listedStates } from '../specs/jobs.js';

/** The states `jobs --state` accepts (prioritized and waiting-children are shown as waiting). */
type ListedState = (typeof listedStates)[number];

interface JobsOptions {
  state?: ListedState;
  target?: string;
  limit: string;
}

/** One job as `jobs --json` prints it. */
export interface JobRow {
  id: string;
  name: string;
  target: string | null;
  state: ListedState;
  origin: string | null;
  attemptsMade: number;
  attempts: number;
  createdAt: string;
  processedAt: string | null;
  finishedAt: string | null;
  failedReason: string | null;
  progress: unknown;
  data: unknown;
  returnvalue: unknown;
}

/** `jobs --json`. */
export interface JobsDocument {
  jobs: JobRow[];
}

/** Jobs in `states`, newest first; when filtering by target, looks this far back per state. */
export async function fetchJobs(
  ctx: CliContext,
  states: readonly ListedState[],
  target: string | undefined,
  limit: number,
): Promise<JobRow[]> {
  const queue = await ctx.queue();
  const scan = target === undefined ? limit : Math.max(limit, 1_000);
  const rows: JobRow[] = [];
  for (const state of states) {
    const types = state === 'waiting' ? (['waiting', 'prioritized', 'waiting-children'] as const) : [state];
    const jobs = (await queue.getJobs([...types], 0, scan - 1)) as Job[];
    for (const job of jobs) {
      if (!job?.id) continue;
      const jobTarget = targetOfJob(job) ?? null;
      if (target !== undefined && jobTarget !== target) continue;
      rows.push(toRow(job, state, jobTarget));
    }
  }
  rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  return rows.slice(0, limit);
}

function toRow(job: Job, state: ListedState, target: string | null): JobRow {
  const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);
  const origin = (job.data as { origin?: unknown } | undefined)?.origin;
  return {
    id: job.id!,
    name: job.name,
    target,
    state,
    origin: typeof origin === 'string' ? origin : null,
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    createdAt: new Date(job.timestamp).toISOString(),
    processedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
    // A job retried to success keeps its old reason in Redis: only unfinished or failed jobs show one.
    failedReason: state === 'completed' ? null : job.failedReason || null,
    progress: job.progress,
    data: job.data,
    returnvalue: state === 'completed' ? (job.returnvalue ?? null) : null,
  };
}

export async function jobsCommand(ctx: CliContext, options: JobsOptions): Promise<number> {
  const limit = Number(options.limit);
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new CliError(
      'USAGE',
      `--limit ${JSON.stringify(options.limit)}: expected a whole number >= 1`,
      exitCodes.usage,
    );
  }
  const states = options.state ? [options.state] : listedStates;
  const rows = await fetchJobs(ctx, states, options.target, limit);
  const config = ctx.config({ requireTargets: false });
  // No job under that name: a typo gets TARGET_UNKNOWN and a suggestion, a configured target an empty list.
  if (options.target !== undefined && rows.length === 0 && config.targets.length > 0)
    findTarget(config, options.target);
  ctx.out.document({ jobs: rows } satisfies JobsDocument);
  if (rows.length === 0) {
    ctx.out.text(
      `no ${options.state ?? ''}${options.state ? ' ' : ''}jobs${options.target ? ` for ${options.target}` : ''}`,
    );
    return exitCodes.ok;
  }
  ctx.out.text(
    table(
      ['ID', 'JOB', 'TARGET', 'STATE', 'ATTEMPTS', 'CREATED', 'FINISHED', 'REASON / RESULT'],
      rows.map((row) => [
        row.id,
        row.name,
        row.target ?? '-',
        row.state,
        `${row.attemptsMade}/${row.attempts}`,
        humanAge(row.createdAt),
        row.finishedAt ? humanAge(row.finishedAt) : '-',
        row.failedReason ?? summary(row),
      ]),
    ),
  );
  return exitCodes.ok;
}

function summary(row: JobRow): string {
  const value = row.returnvalue as { backupId?: string; deleted?: string[]; database?: string } | null;
  if (!value) return row.state === 'active' ? phaseOf(row.progress) : '';
  if (row.name === 'prune' && Array.isArray(value.deleted)) return `deleted ${value.deleted.length}`;
  if (row.name === 'restore' && value.database) return `restored into ${value.database}`;
  return value.backupId ?? '';
}

function phaseOf(progress: unknown): string {
  const phase = (progress as { phase?: unknown } | null)?.phase;
  return typeof phase === 'string' ? phase : '';
}
