import { BackupError } from '../errors.js';
import type { PruneDecision, PrunePlan } from './plan.js';

/** What pruning needs from storage. */
export interface PruneStore {
  /** Deletes one backup: the storage layer removes the manifest first, then the file. */
  deleteBackup(target: string, id: string): Promise<void>;
}

export interface PruneResult {
  plan: PrunePlan;
  /** Ids deleted, in the order they were deleted. Empty on a dry run. */
  deleted: string[];
  dryRun: boolean;
}

export interface ExecutePruneOptions {
  /** Report the plan, delete nothing. */
  dryRun: boolean;
  /** Checked before each deletion; an abort stops with ABORTED and what was already deleted. */
  signal?: AbortSignal;
}

/**
 * Applies a plan. Deletes one backup at a time, oldest first, so an interruption leaves the
 * newest backups, the ones that matter, untouched. The first failure stops everything: a store
 * that cannot delete one backup is unlikely to manage the next, and continuing past a failure
 * would break the oldest-first promise.
 *
 * Throws BackupError PRUNE_BLOCKED when a deletion fails (or when a plan would delete every
 * backup of the target, which `planPrune` never produces) and ABORTED on `signal`; both carry
 * the ids already deleted in `details.deleted`.
 */
export async function executePrune(
  plan: PrunePlan,
  store: PruneStore,
  options: ExecutePruneOptions,
): Promise<PruneResult> {
  const doomed = plan.decisions.filter((decision) => decision.action === 'delete').sort(oldestFirst);
  // Plans may be built or edited outside planPrune (a CLI reading JSON): this last check
  // keeps "pruning never leaves a target with nothing" true here as well. With local retention 0
  // (prune/local-plan.ts) a `copied` backup lives on in every destination: the target keeps it.
  const copiedElsewhere = doomed.some((decision) => decision.reasons.some((r) => r.kind === 'copied'));
  if (doomed.length > 0 && doomed.length === plan.decisions.length && !copiedElsewhere) {
    throw new BackupError('PRUNE_BLOCKED', `prune: the plan for ${plan.target} would delete every backup`, {
      details: { target: plan.target, deleted: [] },
    });
  }
  if (options.dryRun) return { plan, deleted: [], dryRun: true };

  const deleted: string[] = [];
  for (const decision of doomed) {
    if (options.signal?.aborted) {
      throw new BackupError('ABORTED', `prune of ${plan.target} aborted after ${deleted.length} deletions`, {
        cause: options.signal.reason,
        details: { target: plan.target, deleted: [...deleted] },
      });
    }
    try {
      await store.deleteBackup(decision.target, decision.id);
    } catch (cause) {
      throw new BackupError(
        'PRUNE_BLOCKED',
        `prune: deleting backup ${decision.id} of ${decision.target} failed` +
          ` (${deleted.length} of ${doomed.length} deleted): ${describeCause(cause)}`,
        { cause, details: { target: decision.target, backupId: decision.id, deleted: [...deleted] } },
      );
    }
    deleted.push(decision.id);
  }
  return { plan, deleted, dryRun: false };
}

// Exactly the reverse of the plan's order, recomputed because a plan may arrive unsorted.
function oldestFirst(a: PruneDecision, b: PruneDecision): number {
  const byTime = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  if (byTime !== 0 && !Number.isNaN(byTime)) return byTime;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
