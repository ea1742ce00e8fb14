import { BackupError } from '../errors.js';
import { isVerified, type Manifest } from '../manifest.js';
import { type PlanPruneInput, type PruneDecision, type PrunePlan, planPrune } from './plan.js';
import type { PruneReason } from './reason.js';

export interface PlanLocalPruneInput extends PlanPruneInput {
  /** The destinations the target copies to (none: the plan is planPrune's). */
  destinations: readonly string[];
}

/** Destinations without a confirmed copy of this backup. */
function missingCopies(manifest: Manifest, destinations: readonly string[]): string[] {
  const copied = new Set((manifest.copies ?? []).map((copy) => copy.destination));
  return destinations.filter((name) => !copied.has(name));
}

/**
 * The plan for the local backup directory: planPrune's, with copies taken into account. Pure,
 * like planPrune (whose checks of the input it reuses).
 *
 * - With destinations, a verified backup the policy would delete is kept until every destination
 *   has a confirmed copy (`awaiting-copy`): the local file may be the only one while the bucket
 *   is unreachable. Backups that are not verified are never copied (the chain copies after a
 *   successful verification), so waiting for their copies would keep them for ever: the policy
 *   alone decides for them.
 * - With retention 0 (`untilCopied`), a backup is deleted once every destination has a confirmed
 *   copy (`copied`); one that is not verified and older than the newest verified one is deleted
 *   as planPrune would; everything else waits for its copies (or its verification).
 */
export function planLocalPrune(input: PlanLocalPruneInput): PrunePlan {
  const base = planPrune(input);
  if (input.policy.untilCopied && input.destinations.length === 0) {
    throw new BackupError(
      'CONFIG_INVALID',
      `target ${input.target}: retention 0 keeps backups only until they are copied, but the target has no destination`,
    );
  }
  if (input.destinations.length === 0 || input.dumpRunning === true) return base;
  const byId = new Map(input.manifests.filter((m) => m.target === input.target).map((m) => [m.id, m]));
  const manifestOf = (decision: PruneDecision) => byId.get(decision.id)!;
  let decisions: PruneDecision[];
  if (input.policy.untilCopied) {
    const newestVerifiedMs = Math.max(
      -Infinity,
      ...base.decisions
        .map(manifestOf)
        .filter(isVerified)
        .map((m) => Date.parse(m.createdAt)),
    );
    decisions = base.decisions.map((decision) => {
      const manifest = manifestOf(decision);
      const missing = missingCopies(manifest, input.destinations);
      if (missing.length === 0)
        return withAction(decision, 'delete', { kind: 'copied', destinations: [...input.destinations] });
      if (!isVerified(manifest) && Date.parse(manifest.createdAt) < newestVerifiedMs)
        return withAction(decision, 'delete', { kind: 'not-verified-superseded' });
      return withAction(
        decision,
        'keep',
        isVerified(manifest) ? { kind: 'awaiting-copy', missing } : { kind: 'pending' },
      );
    });
  } else {
    decisions = base.decisions.map((decision) => {
      if (decision.action === 'keep') return decision;
      const manifest = manifestOf(decision);
      const missing = missingCopies(manifest, input.destinations);
      return isVerified(manifest) && missing.length > 0
        ? withAction(decision, 'keep', { kind: 'awaiting-copy', missing })
        : decision;
    });
  }
  const keep = decisions.filter((decision) => decision.action === 'keep').length;
  return { ...base, decisions, keep, delete: decisions.length - keep };
}

function withAction(
  decision: PruneDecision,
  action: PruneDecision['action'],
  reason: PruneReason,
): PruneDecision {
  return { ...decision, action, reasons: [reason] };
}
