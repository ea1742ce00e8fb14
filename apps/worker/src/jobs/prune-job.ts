import {
  deleteBackup,
  describeReason,
  executePrune,
  listBackups,
  withCurrentCopies,
} from '@pgbackup/backup-core';
import type { ParsedJobData, PruneJobResult } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import type { JobRun } from './job-run.js';
import { pruneDestinations } from './prune-destinations.js';
import { planAndRecord } from './prune-plan.js';
import { withTargetLock } from './with-target-lock.js';

/**
 * Applies the retention policy. It holds the target's lock, so it never runs while a dump of
 * the same target runs (a running dump may be the backup that would fill a slot).
 */
export async function runPruneJob(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'prune'>,
): Promise<PruneJobResult> {
  const target = await ctx.targets.resolve(data.target);
  return withTargetLock(ctx, run, target.name, async (lock) => {
    // A lock lost mid-prune (Redis out of reach for longer than the lock) means another worker may
    // now prune or dump this target: stop before the next deletion rather than race it.
    const lockLost = new AbortController();
    lock.onLost(() =>
      lockLost.abort('the target lock was lost (Redis unreachable for longer than the lock?)'),
    );
    const signal = AbortSignal.any([run.signal, lockLost.signal]);
    const runLog = await run.openRunLog(target.name);
    const listing = await listBackups(ctx.config.backupDir, { target: target.name });
    const plan = await planAndRecord(
      target,
      // Only copies where their destination keeps them now count for the local retention.
      withCurrentCopies(
        listing.entries.map((entry) => entry.manifest),
        ctx.config.destinations,
      ),
      target.retention,
      runLog,
      '',
      target.destinations,
    );
    const result = await executePrune(
      plan,
      { deleteBackup: (t, id) => deleteBackup(ctx.config.backupDir, t, id) },
      { dryRun: data.dryRun, signal },
    );
    const remote = await pruneDestinations(ctx, target, runLog, { dryRun: data.dryRun, signal });
    const remoteSummary = remote
      .map(
        (r) => `; ${r.destination}: ${data.dryRun ? 'would delete' : 'deleted'} ${r.planned}, kept ${r.kept}`,
      )
      .join('');
    const summary = `${data.dryRun ? 'dry run: would delete' : 'deleted'} ${plan.delete} backup(s), kept ${plan.keep}${remoteSummary}`;
    run.summary(summary);
    await run.log(summary);
    return {
      target: target.name,
      dryRun: data.dryRun,
      kept: plan.keep,
      deleted: result.deleted,
      ...(remote.length === 0 ? {} : { destinations: remote }),
      decisions: plan.decisions.map((decision) => ({
        id: decision.id,
        createdAt: decision.createdAt,
        action: decision.action,
        reasons: decision.reasons.map(describeReason),
      })),
    };
  });
}
