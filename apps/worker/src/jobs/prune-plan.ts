import {
  describeReason,
  type Manifest,
  type PrunePlan,
  planLocalPrune,
  type RetentionPolicy,
  type RunLog,
  type TargetConfig,
} from '@pgbackup/backup-core';

/**
 * Plans a prune of one catalog (the local directory or a destination's bucket) and writes every
 * decision with its reasons to the run log, `label` first when there are several catalogs.
 * `copiesTo`: for the local directory, the target's destinations, whose confirmed copies a
 * local deletion waits for (prune/local-plan.ts); none for a bucket.
 */
export async function planAndRecord(
  target: TargetConfig,
  manifests: Manifest[],
  policy: RetentionPolicy,
  runLog: RunLog,
  label = '',
  copiesTo: readonly string[] = [],
): Promise<PrunePlan> {
  const plan = planLocalPrune({
    target: target.name,
    manifests,
    policy,
    destinations: copiesTo,
    now: new Date(),
    timeZone: target.timeZone,
  });
  for (const decision of plan.decisions) {
    await runLog.line(
      `${label}${decision.action} ${decision.id}: ${decision.reasons.map(describeReason).join(', ')}`,
    );
  }
  return plan;
}
