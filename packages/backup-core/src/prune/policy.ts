import { BackupError } from '../errors.js';

/** How many backups of each kind of period to keep. Every count is a non-negative integer. */
export interface RetentionPolicy {
  /** Calendar days to keep the newest verified backup of. 0 = none. */
  daily: number;
  /** ISO-8601 weeks (Monday start) to keep the newest verified backup of. 0 = none. */
  weekly: number;
  /** Calendar months to keep the newest verified backup of. 0 = none. */
  monthly: number;
  /** Calendar years to keep the newest verified backup of. 0 = none. */
  yearly: number;
  /**
   * Floor: this many newest verified backups are kept even if every one is older than the policy.
   * Default 3. The newest verified backup is kept even when this is 0.
   */
  minVerified: number;
  /**
   * Retention `0`, for the local backup directory only: a backup's file is kept until every
   * destination of its target has a confirmed copy, then deleted (prune/local-plan.ts); the
   * counts above are then 0 and the destinations' own retention is what keeps backups. Workers
   * without durable disks use the bucket as their repository this way.
   */
  untilCopied?: boolean;
}

/** daily 7, weekly 4, monthly 12, yearly 0, minVerified 3. Frozen: it is shared by every caller. */
export const defaultRetentionPolicy: RetentionPolicy = Object.freeze({
  daily: 7,
  weekly: 4,
  monthly: 12,
  yearly: 0,
  minVerified: 3,
});

const policyFields = ['daily', 'weekly', 'monthly', 'yearly', 'minVerified'] as const;

/**
 * The configuration schema validates too; this repeats it because a NaN or a negative count
 * reaching the planner would silently keep nothing, and the planner is what deletes.
 */
export function assertRetentionPolicy(policy: RetentionPolicy): void {
  for (const field of policyFields) {
    const value: unknown = policy[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new BackupError(
        'CONFIG_INVALID',
        `retention policy: ${field} must be a non-negative integer, got ${String(value)}`,
        { details: { field, value } },
      );
    }
  }
}
