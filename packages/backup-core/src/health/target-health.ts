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
 * - `failing`: a job of the target failed for good and nothing has answered it since
 *   (failureAnswered): whatever the backups' age, a failure is news.
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
   * The newest final failure of one of the target's jobs (restores and drills aside: countsAgainstTarget): when, and the backup
   * it was about (a verify, copy or drill has one; a dump has none). Null when it cannot be known
   * (Redis unreachable), undefined when there is none.
   */
  lastFailure?: TargetFailure | null | undefined;
}

export interface TargetFailure {
  at: Date;
  backupId?: string | undefined;
  /** A failed copy's destination: only that copy, once confirmed, answers it. */
  copyTo?: string | undefined;
}

/**
 * Whether a final failure has been answered by a verified backup: one whose snapshot was taken
 * after the failure (a new backup, whatever failed), or the very backup the failure was about,
 * verified again after it (a verification re-done and passed). Verifying an older backup again
 * answers nothing: last night's dump is still missing. The one rule for `status`, the dashboard
 * and the worker's recovery alert.
 *
 * A failed copy is answered only by that copy confirmed (a retry), or by its backup being gone:
 * a newer backup copied leaves the failed one on disk for ever, awaiting its copy, with nothing
 * else to say so. `manifests` (the target's) tell; without them the rule above applies.
 */
export function failureAnswered(
  failure: TargetFailure,
  verified: Pick<Manifest, 'id' | 'createdAt'> | undefined,
  verifiedAt: string | undefined,
  manifests?: readonly Pick<Manifest, 'id' | 'copies'>[],
): boolean {
  if (failure.copyTo !== undefined && failure.backupId !== undefined && manifests) {
    const copied = manifests.find((manifest) => manifest.id === failure.backupId);
    return !copied || (copied.copies ?? []).some((copy) => copy.destination === failure.copyTo);
  }
  if (!verified || verifiedAt === undefined) return false;
  if (Date.parse(verified.createdAt) > failure.at.getTime()) return true;
  return failure.backupId === verified.id && Date.parse(verifiedAt) > failure.at.getTime();
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
    input.lastFailure === null
      ? null
      : input.lastFailure !== undefined &&
        !failureAnswered(input.lastFailure, lastVerified, verifiedAt, input.manifests);
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
