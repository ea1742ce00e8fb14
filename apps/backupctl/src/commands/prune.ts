import { describeReason, listBackups, planLocalPrune, withCurrentCopies } from '@pgbackup/backup-core';
import { completedJobsKeptNote, enqueuePrune, type PruneJobResult, parseJobResult } from '@pgbackup/queue';
import { failureOf, type JobFailure } from '../chain.js';
import type { CliContext } from '../context.js';
import { exitCodes } from '../exit-codes.js';
import { followJob, interruptSignal, isJobGone } from '../follow.js';
import { humanAge, shortTime, table } from '../output.js';
import { createProgress } from '../progress.js';
import { findKnownTarget, knownTargets } from '../resolve.js';

interface PruneOptions {
  target?: string;
  dryRun?: boolean;
  wait?: boolean;
}

/** One target's prune: the job's result, or the local plan of a dry run (`wouldDelete`). */
export interface PruneReport extends PruneJobResult {
  /** Ids a real prune would delete now (dry run); the ids deleted otherwise. */
  wouldDelete: string[];
}

/** `prune --json`. With --dry-run, `jobs` is empty and `results` holds the local plans. */
export interface PruneDocument {
  dryRun: boolean;
  jobs: Array<{ id: string; target: string }>;
  /** Empty without --wait (the jobs run in the worker). */
  results: PruneReport[];
  failures: JobFailure[];
}

export async function pruneCommand(ctx: CliContext, options: PruneOptions): Promise<number> {
  const config = ctx.config();
  // The databases server targets discovered (and their globals) are pruned as their own
  // targets; a server target has no backups of its own, so naming one prunes its databases.
  const named = options.target === undefined ? undefined : await findKnownTarget(ctx, options.target);
  // Only what needs them reads the discovered databases from Redis.
  const known = named && !named.discover ? [] : await knownTargets(ctx);
  const targets = named?.discover
    ? known.filter((target) => target.server === named.name)
    : named
      ? [named]
      : known.filter((target) => !target.discover);
  if (options.dryRun) {
    // The same plan the worker's prune would make now (it holds the target's lock, so a
    // running dump delays the real prune rather than changing its plan).
    const manifests = withCurrentCopies(
      (await listBackups(config.backupDir)).entries.map((entry) => entry.manifest),
      config.destinations,
    );
    const now = new Date();
    const results: PruneReport[] = targets.map((target) => {
      const plan = planLocalPrune({
        target: target.name,
        manifests,
        policy: target.retention,
        destinations: target.destinations,
        now,
        timeZone: target.timeZone,
      });
      return {
        target: target.name,
        dryRun: true,
        kept: plan.keep,
        deleted: [],
        wouldDelete: plan.decisions.filter((d) => d.action === 'delete').map((d) => d.id),
        decisions: plan.decisions.map((d) => ({
          id: d.id,
          createdAt: d.createdAt,
          action: d.action,
          reasons: d.reasons.map(describeReason),
        })),
      };
    });
    for (const result of results) printPlan(ctx, result);
    ctx.out.document({ dryRun: true, jobs: [], results, failures: [] } satisfies PruneDocument);
    return exitCodes.ok;
  }

  const queue = await ctx.queue();
  const jobs: PruneDocument['jobs'] = [];
  for (const target of targets) {
    const job = await enqueuePrune(queue, { target: target.name, dryRun: false, origin: 'manual' });
    jobs.push({ id: job.id!, target: target.name });
    ctx.out.text(`prune job ${job.id} for ${target.name}: enqueued`);
  }
  await ctx.confirmReplicated();
  if (!options.wait) {
    ctx.out.document({ dryRun: false, jobs, results: [], failures: [] } satisfies PruneDocument);
    return exitCodes.ok;
  }
  const interrupt = interruptSignal();
  const progress = createProgress(process.stderr);
  const results: PruneReport[] = [];
  const failures: JobFailure[] = [];
  try {
    for (const job of jobs) {
      const outcome = await followJob(queue, job.id, {
        progress,
        signal: interrupt.signal,
        redis: await ctx.redis(),
      }).catch((error: unknown) => {
        if (!isJobGone(error)) throw error;
        ctx.out.text(
          `${job.target}: prune job ${job.id} completed, and the queue no longer holds its result (${completedJobsKeptNote}): \`backupctl backups --target ${job.target}\` shows what is kept`,
        );
        return undefined;
      });
      if (!outcome) continue;
      if (outcome.state === 'failed') {
        const failure = failureOf(job.id, 'prune', outcome.job.failedReason);
        failures.push(failure);
        ctx.out.text(`FAILED  prune of ${job.target}: ${failure.reason}`);
        if (ctx.json) ctx.out.note(`backupctl: prune of ${job.target} failed: ${failure.reason}`);
        continue;
      }
      const result = parseJobResult('prune', outcome.job.id, outcome.job.returnvalue);
      const report = { ...result, wouldDelete: result.deleted };
      results.push(report);
      printPlan(ctx, report);
    }
  } finally {
    interrupt.dispose();
  }
  ctx.out.document({ dryRun: false, jobs, results, failures } satisfies PruneDocument);
  return failures.length === 0 ? exitCodes.ok : exitCodes.failed;
}

function printPlan(ctx: CliContext, result: PruneReport): void {
  const deleting = result.dryRun ? result.wouldDelete.length : result.deleted.length;
  const verb = result.dryRun ? 'would delete' : 'deleted';
  ctx.out.text(
    `${result.target}: keep ${result.kept}, ${verb} ${deleting}${result.dryRun ? ' (dry run: nothing was changed)' : ''}`,
  );
  if (result.decisions.length === 0) return;
  ctx.out.text(
    table(
      ['ACTION', 'BACKUP', 'CREATED', 'WHY'],
      result.decisions.map((d) => [
        d.action === 'delete' ? (result.dryRun ? 'delete' : 'deleted') : 'keep',
        d.id,
        `${shortTime(d.createdAt)} (${humanAge(d.createdAt)})`,
        d.reasons.join('; '),
      ]),
    ),
  );
  ctx.out.text('');
}
