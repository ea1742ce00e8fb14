import { failureAnswered, type Manifest, readCatalog, verificationState } from '@pgbackup/backup-core';
import {
  describeRestore,
  failureOfJob,
  isRestoreJob,
  jobNames,
  restoreAgainCommand,
  targetOfJob,
} from '@pgbackup/queue';
import type { Job } from 'bullmq';
import { type ChainResult, describeChain, failureOf, followDumpChain, type JobFailure } from '../chain.js';
import { chainRecord } from '../chain-record.js';
import type { CliContext } from '../context.js';
import { CliError, exitCodes } from '../exit-codes.js';
import { followJob, interruptSignal } from '../follow.js';
import { createProgress } from '../progress.js';
import { closest, editDistance, findKnownTarget } from '../resolve.js';

interface RetryOptions {
  allFailed?: boolean;
  target?: string;
  wait?: boolean;
}

/**
 * Which failed jobs `--all-failed` retries. Nights of failures must not become as many dumps
 * back to back, nor verifications of backups pruned since, each failing again with a new alert:
 * - a failure a verified backup has answered (a backup taken after it; for a verification, the
 *   same backup verified again) is left: status no longer counts it either. A failed copy is
 *   answered only by that copy confirmed: a newer backup copied leaves this one uncopied;
 * - of a target's unanswered failed dumps only the newest is retried (one dump makes a backup);
 * - a job about a local backup that is in no catalog any more (pruned) is left. Only when every
 *   destination the catalog includes could be listed: else the backup may be in the one that
 *   did not answer, and the job is retried. A verification of a copy or a restore from a bucket
 *   is never judged so: its backup may be in the bucket only.
 */
async function worthRetrying(
  ctx: CliContext,
  failed: Job[],
): Promise<{ retry: Job[]; skipped: SkippedJob[] }> {
  const catalog = await readCatalog(ctx.config());
  const complete = catalog.destinations.every((listing) => listing.ok);
  const byId = new Map(catalog.backups.map((backup) => [backup.manifest.id, backup.manifest]));
  const newestVerified = new Map<string, { manifest: Manifest; at: string }>();
  // Newest first: the first verified backup of a target is its newest.
  for (const { manifest } of catalog.backups) {
    if (newestVerified.has(manifest.target)) continue;
    const state = verificationState(manifest);
    if (state.state === 'verified') newestVerified.set(manifest.target, { manifest, at: state.at });
  }
  const retry: Job[] = [];
  const skipped: SkippedJob[] = [];
  const skip = (job: Job, reason: string, instead: string | null = null) =>
    skipped.push({
      id: job.id!,
      name: job.name,
      target: targetOfJob(job) ?? null,
      failedReason: job.failedReason || null,
      reason,
      instead,
    });
  const dumpRetried = new Map<string, string>();
  const newestFirst = [...failed].sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0));
  for (const job of newestFirst) {
    const target = targetOfJob(job);
    const failure = failureOfJob(job);
    const { backupId, copyTo } = failure;
    const data = (job.data ?? {}) as { destination?: unknown; from?: unknown };
    // A verification of a copy, or a restore from a bucket: its backup may be in the bucket only.
    const onLocalFile =
      !(job.name === jobNames.verify && typeof data.destination === 'string') && data.from === undefined;
    const gone = backupId !== undefined && onLocalFile && complete && !byId.has(backupId);
    const verified = target === undefined ? undefined : newestVerified.get(target);
    if (gone) {
      skip(job, `backup ${backupId} no longer exists (pruned, or deleted): it would fail again`);
    } else if (copyTo !== undefined) {
      // Only the copy itself answers a failed copy (failureAnswered): a newer backup copied does not.
      if (backupId !== undefined && byId.get(backupId)?.copies?.some((copy) => copy.destination === copyTo))
        skip(job, `answered since: backup ${backupId} has a confirmed copy in ${copyTo}; nothing to retry`);
      else retry.push(job);
    } else if (verified && failureAnswered(failure, verified.manifest, verified.at)) {
      skip(
        job,
        `answered since: backup ${verified.manifest.id} was verified after it failed; nothing to retry`,
      );
    } else if (job.name === jobNames.dump && target !== undefined && dumpRetried.has(target)) {
      skip(
        job,
        `an older failed dump of ${target}: dump job ${dumpRetried.get(target)} is retried, and one dump makes a backup`,
      );
    } else {
      if (job.name === jobNames.dump && target !== undefined) dumpRetried.set(target, job.id!);
      retry.push(job);
    }
  }
  // Retried oldest first, as before: the order the jobs had failed in.
  return { retry: retry.reverse(), skipped: skipped.reverse() };
}

/** A job that was retried, with the reason it had failed with. */
export interface RetriedJob {
  id: string;
  name: string;
  target: string | null;
  failedReason: string | null;
}

/**
 * A failed job that --all-failed left alone: a restore (never retried), a failure a verified
 * backup has answered since (failureAnswered, the rule of `status`), an older failed dump of a
 * target whose newest failed dump is retried, or a job about a backup that no longer exists.
 */
export interface SkippedJob {
  id: string;
  name: string;
  target: string | null;
  failedReason: string | null;
  reason: string;
  /** What to run instead; null when nothing is needed. */
  instead: string | null;
}

/** What `retry --wait` reports per job. */
export interface RetryResult {
  jobId: string;
  name: string;
  target: string | null;
  ok: boolean;
  /** A dump is followed through its verification and prune: the whole chain. */
  chain: ChainResult | null;
  /** The return value of any other job. */
  result: unknown;
  failure: JobFailure | null;
}

/** `retry --json`: `results` is empty without --wait; `skipped` lists the restore jobs --all-failed left. */
export interface RetryDocument {
  retried: RetriedJob[];
  skipped: SkippedJob[];
  results: RetryResult[];
}

export async function retryCommand(ctx: CliContext, ids: string[], options: RetryOptions): Promise<number> {
  if (ids.length === 0 && !options.allFailed) {
    throw new CliError(
      'USAGE',
      'name the jobs to retry, or pass --all-failed',
      exitCodes.usage,
      '`backupctl jobs --state failed` lists them.',
    );
  }
  if (ids.length > 0 && options.allFailed) {
    throw new CliError('USAGE', 'job ids and --all-failed exclude each other', exitCodes.usage);
  }
  if (options.target !== undefined && !options.allFailed) {
    throw new CliError('USAGE', '--target only applies with --all-failed', exitCodes.usage);
  }
  const queue = await ctx.queue();
  let jobs: Job[];
  const skipped: SkippedJob[] = [];
  if (options.allFailed) {
    if (options.target !== undefined) await findKnownTarget(ctx, options.target);
    const failed = ((await queue.getJobs(['failed'], 0, -1)) as Job[]).filter(
      (job) => job?.id && (options.target === undefined || targetOfJob(job) === options.target),
    );
    const worth = await worthRetrying(
      ctx,
      failed.filter((job) => !isRestoreJob(job)),
    );
    jobs = worth.retry;
    for (const entry of worth.skipped) {
      skipped.push(entry);
      ctx.out.text(
        `skipped ${entry.name} job ${entry.id} (${entry.target ?? '?'}), which had failed with: ${entry.failedReason ?? '?'}; ${entry.reason}`,
      );
    }
    for (const job of failed.filter(isRestoreJob)) {
      const entry: SkippedJob = {
        id: job.id!,
        name: job.name,
        target: targetOfJob(job) ?? null,
        failedReason: job.failedReason || null,
        reason: `a restore runs at most once (${describeRestore(job)}); it is never retried`,
        instead: restoreAgainCommand(job),
      };
      skipped.push(entry);
      ctx.out.text(
        `skipped restore job ${entry.id} (${describeRestore(job)}), which had failed with: ${entry.failedReason ?? '?'}; ` +
          `a restore is never retried: to restore again, run \`${entry.instead}\``,
      );
    }
  } else {
    jobs = await findFailedJobs(ctx, ids);
  }
  const retried: RetriedJob[] = [];
  for (const job of jobs) {
    // Attempts start from zero: the job gets its full retry budget again.
    const entry: RetriedJob = {
      id: job.id!,
      name: job.name,
      target: targetOfJob(job) ?? null,
      failedReason: job.failedReason || null,
    };
    await job.retry('failed', { resetAttemptsMade: true });
    retried.push(entry);
    ctx.out.text(
      `retried job ${entry.id} (${entry.name} ${entry.target ?? ''}), which had failed with: ${entry.failedReason ?? '?'}`,
    );
  }
  if (retried.length > 0) await ctx.confirmReplicated();
  if (retried.length === 0) {
    const what = skipped.length > 0 ? 'no failed jobs to retry' : 'no failed jobs';
    ctx.out.text(`${what}${options.target ? ` for ${options.target}` : ''}`);
  }
  if (!options.wait) {
    ctx.out.document({ retried, skipped, results: [] } satisfies RetryDocument);
    return exitCodes.ok;
  }

  const interrupt = interruptSignal();
  const progress = createProgress(process.stderr);
  const results: RetryResult[] = [];
  try {
    for (const entry of retried) {
      const follow = {
        progress,
        signal: interrupt.signal,
        redis: await ctx.redis(),
        record: chainRecord(ctx.config()),
      };
      if (entry.name === 'dump' && entry.target) {
        const chain: ChainResult = await followDumpChain(queue, entry.id, entry.target, follow);
        ctx.out.text(describeChain(chain));
        results.push({
          jobId: entry.id,
          name: entry.name,
          target: entry.target,
          ok: chain.ok,
          chain,
          result: null,
          failure: chain.failure,
        });
        continue;
      }
      const outcome = await followJob(queue, entry.id, follow);
      const ok = outcome.state === 'completed';
      const failure = ok ? null : failureOf(entry.id, entry.name, outcome.job.failedReason);
      ctx.out.text(
        ok
          ? `OK  job ${entry.id} (${entry.name}) completed`
          : `FAILED  job ${entry.id} (${entry.name}): ${failure?.reason}`,
      );
      results.push({
        jobId: entry.id,
        name: entry.name,
        target: entry.target,
        ok,
        chain: null,
        result: ok ? outcome.job.returnvalue : null,
        failure,
      });
    }
  } finally {
    interrupt.dispose();
  }
  for (const result of results) {
    if (ctx.json && result.failure)
      ctx.out.note(`backupctl: job ${result.jobId} failed again: ${result.failure.reason}`);
  }
  ctx.out.document({ retried, skipped, results } satisfies RetryDocument);
  return results.every((result) => result.ok) ? exitCodes.ok : exitCodes.failed;
}

/**
 * The named jobs, all of them failed and none a restore; otherwise nothing is retried and the
 * error says why.
 */
async function findFailedJobs(ctx: CliContext, ids: string[]): Promise<Job[]> {
  const queue = await ctx.queue();
  const found: Job[] = [];
  const problems: string[] = [];
  const unknown: string[] = [];
  const restores: Job[] = [];
  for (const id of ids) {
    const job = await queue.getJob(id);
    if (!job) {
      unknown.push(id);
      problems.push(`no job ${id}`);
      continue;
    }
    if (isRestoreJob(job)) {
      restores.push(job);
      continue;
    }
    const state = await job.getState();
    if (state !== 'failed') problems.push(`job ${id} (${job.name}) is ${state}, not failed`);
    else found.push(job);
  }
  const [restore] = restores;
  if (restore) {
    // Refused whatever its state, before any other problem: this one no fix of the cause can lift.
    throw new CliError(
      'RESTORE_NOT_RETRIABLE',
      `job ${restore.id} is a restore (${describeRestore(restore)}), and a restore runs at most once: ` +
        `it is never retried, since running it again would replace the database a second time: nothing was retried`,
      exitCodes.usage,
      `To restore again, run a new restore and decide again on --force: ${restoreAgainCommand(restore)}`,
    );
  }
  if (problems.length === 0) return found;
  const failedIds = ((await queue.getJobs(['failed'], 0, 199)) as Job[]).flatMap((job) =>
    job?.id ? [job.id] : [],
  );
  const suggestions = unknown
    .flatMap((id) =>
      closest(id, failedIds, 1).filter(
        (candidate) => editDistance(id, candidate) <= Math.max(2, id.length / 3),
      ),
    )
    .filter((id) => !ids.includes(id));
  const hint =
    (suggestions.length > 0 ? `Did you mean ${[...new Set(suggestions)].join(', ')}? ` : '') +
    (failedIds.length > 0
      ? '`backupctl jobs --state failed` lists the failed jobs.'
      : 'There are no failed jobs right now (`backupctl jobs` lists them all).');
  throw new CliError(
    unknown.length > 0 ? 'JOB_UNKNOWN' : 'JOB_NOT_FAILED',
    `${problems.join('; ')}: nothing was retried`,
    exitCodes.usage,
    hint,
  );
}
