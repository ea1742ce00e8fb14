import {
  describeReason,
  type Manifest,
  type PrunePlan,
  planPrune,
  type RetentionPolicy,
  type RunLog,
  type TargetConfig,
} from '@pgbackup/backup-core';

/**
 * Plans a prune of one catalog (the local directory or a destination's bucket) and writes every
 * decision with its reasons to the run log, `label` first when there are several catalogs.
 */
export async function planAndRecord(
  target: TargetConfig,
  manifests: Manifest[],
  policy: RetentionPolicy,
  runLog: RunLog,
  label = '',
): Promise<PrunePlan> {
  const plan = planPrune({
    target: target.name,
    manifests,
    policy,
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
