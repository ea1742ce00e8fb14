/**
 * Retention: `planPrune` decides (pure, testable, printable with `describeReason`),
 * `executePrune` applies a plan through the storage layer, oldest first.
 */
export { type ExecutePruneOptions, executePrune, type PruneResult, type PruneStore } from './execute.js';
export { type PlanLocalPruneInput, planLocalPrune } from './local-plan.js';
export {
  describeReason,
  type PlanPruneInput,
  type PruneDecision,
  type PrunePlan,
  type PruneReason,
  planPrune,
} from './plan.js';
export { defaultRetentionPolicy, type RetentionPolicy } from './policy.js';
