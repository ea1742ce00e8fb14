import { type Manifest, verificationState } from '../manifest.js';

/**
 * The one rule for "is this target backed up well enough", used by `backupctl status`, the
 * dashboard (its page and `pgbackup_stale`) and the stale alert, so the three can never disagree.
 *
 * - `ok`: a verified backup younger than the target's maximum age, and no failure since.
 * - `stale`: the newest verified backup is older than the maximum age.
 * - `missing`: no verified backup at all. A target watched for less than its maximum age (a new
 *   target) is in its grace period: `missing` but not yet a problem; after that, or when nobody
 *   knows how long it has been watched, it is one.
 * - `failing`: a dump, verify or prune of the target failed for good after its newest verified
 *   backup was verified (whatever its age: a failure is news).
 */
export type TargetHealthState = 'ok' | 'stale' | 'missing' | 'failing';

export interface TargetHealthInput {
  maxAgeMs: number;
  /** The target's backups, newest first (as listBackups gives them). */
  manifests: readonly Manifest[];
  now: Date;
  /** Since when a worker has watched this target; undefined when unknown (no grace is given). */
  watchedSince?: Date | undefined;
  /**
   * When the newest final failure of one of the target's dump, verify or prune jobs happened;
   * null when it cannot be known (Redis unreachable), undefined when there is none.
   */
  lastFailureAt?: Date | null | undefined;
}

export interface TargetHealth {
  state: TargetHealthState;
  /** True when the target needs attention: what `status` exits 1 for and `pgbackup_stale` says. */
  problem: boolean;
  /** No verified backup within the maximum age (past the grace period for a new target). */
  stale: boolean;
  /** A final failure since the newest verification; null when failures could not be read. */
  failing: boolean | null;
  /** Missing, but watched for less than the maximum age. */
  inGrace: boolean;
  lastVerified: Manifest | undefined;
  /** When the newest verified backup was verified. */
  verifiedAt: string | undefined;
  /** Age of the newest verified backup's snapshot (its createdAt). */
  verifiedAgeMs: number | undefined;
}

export function targetHealth(input: TargetHealthInput): TargetHealth {
  const now = input.now.getTime();
  const lastVerified = input.manifests.find((manifest) => verificationState(manifest).state === 'verified');
  const state = lastVerified ? verificationState(lastVerified) : undefined;
  const verifiedAt = state?.state === 'verified' ? state.at : undefined;
  const verifiedAgeMs = lastVerified ? now - Date.parse(lastVerified.createdAt) : undefined;
  const inGrace =
    !lastVerified && input.watchedSince !== undefined && now - input.watchedSince.getTime() <= input.maxAgeMs;
  const stale = verifiedAgeMs === undefined ? !inGrace : verifiedAgeMs > input.maxAgeMs;
  const failing =
    input.lastFailureAt === null
      ? null
      : input.lastFailureAt !== undefined &&
        (verifiedAt === undefined || input.lastFailureAt.getTime() > Date.parse(verifiedAt));
  return {
    state: failing ? 'failing' : !lastVerified ? 'missing' : stale ? 'stale' : 'ok',
    problem: stale || failing === true,
    stale,
    failing,
    inGrace,
    lastVerified,
    verifiedAt,
    verifiedAgeMs,
  };
}
