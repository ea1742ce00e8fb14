import { executePrune, type RunLog, type TargetConfig } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import type { WorkerContext } from '../context.js';
import { findDestination } from './copy-job.js';
import { planAndRecord } from './prune-plan.js';
import { sweepUploadsAfterPrune } from './sweep-uploads.js';

export interface DestinationPruneResult {
  destination: string;
  kept: number;
  /** What the plan deletes (on a dry run, what it would delete). */
  planned: number;
  deleted: string[];
}

/**
 * Applies each destination's retention to the backups in it, from the bucket's own manifests
 * (so a worker that never had the files prunes what another one copied), with the same
 * verification-gated plan as the local prune. Runs under the target's lock, like the local
 * prune: two workers never delete the same object twice.
 */
export async function pruneDestinations(
  ctx: WorkerContext,
  target: TargetConfig,
  runLog: RunLog,
  options: { dryRun: boolean; signal: AbortSignal },
): Promise<DestinationPruneResult[]> {
  const results: DestinationPruneResult[] = [];
  for (const name of target.destinations) {
    const destination = findDestination(ctx, name);
    const store = new RemoteStore(destination);
    try {
      const listing = await store.list({ target: target.name });
      for (const problem of listing.problems)
        await runLog.line(`${name}: unreadable manifest object ${problem.key}: ${problem.message}`);
      const byId = new Map(listing.entries.map((entry) => [entry.manifest.id, entry]));
      const plan = await planAndRecord(
        target,
        listing.entries.map((entry) => entry.manifest),
        destination.retention,
        runLog,
        `${name}: `,
      );
      const result = await executePrune(
        plan,
        {
          deleteBackup: async (_target, id) => {
            const entry = byId.get(id);
            if (entry) await store.delete(entry);
          },
        },
        { dryRun: options.dryRun, signal: options.signal },
      );
      results.push({ destination: name, kept: plan.keep, planned: plan.delete, deleted: result.deleted });
      if (!options.dryRun) await sweepUploadsAfterPrune(ctx, store, target.name, runLog, options.signal);
    } finally {
      store.close();
    }
  }
  return results;
}
