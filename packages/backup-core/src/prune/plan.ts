import { BackupError } from '../errors.js';
import { isVerified, type Manifest } from '../manifest.js';
import { type LocalDayOf, localDayCalculator } from './local-day.js';
import { periodKey, periodKinds, periodLabel } from './periods.js';
import { assertRetentionPolicy, type RetentionPolicy } from './policy.js';
import type { PruneReason } from './reason.js';

export { describeReason, type PruneReason } from './reason.js';

export interface PruneDecision {
  id: string;
  target: string;
  createdAt: string;
  action: 'keep' | 'delete';
  /** Every reason that keeps the backup, or the one reason it is deleted. Never empty. */
  reasons: PruneReason[];
}

export interface PrunePlan {
  target: string;
  /** `input.now` as an ISO string: when the plan was made, for logs. It does not move any slot. */
  now: string;
  timeZone: string;
  policy: RetentionPolicy;
  /** One per manifest of the target, newest first (createdAt, then id, descending). */
  decisions: PruneDecision[];
  keep: number;
  delete: number;
}

export interface PlanPruneInput {
  target: string;
  /** Manifests of any targets; only those of `target` are planned. */
  manifests: readonly Manifest[];
  policy: RetentionPolicy;
  now: Date;
  /** IANA name; days, weeks, months and years are calendar periods in this zone. */
  timeZone: string;
  /** A dump of the target is running: keep everything, it may be the backup that fills a slot. Default false. */
  dumpRunning?: boolean;
}

interface Candidate {
  manifest: Manifest;
  createdMs: number;
  verified: boolean;
  /** Computed only for verified backups, and only when a slot walk reaches them. */
  localDay: number | undefined;
  /** Keep reasons, allocated with the first: most of a long history gets none. */
  reasons: PruneReason[] | undefined;
}

/**
 * Decides which backups of one target to keep, borg/restic style, with two guards those tools
 * lack: only verified backups count, and no plan ever deletes the last verified one.
 * Pure: no I/O, no clock; the same input gives the same plan in any order.
 *
 * Throws BackupError CONFIG_INVALID for a bad policy, time zone or `now`, and MANIFEST_INVALID
 * for a createdAt that does not parse or an id listed twice (deleting by that id would delete
 * whichever copy the plan meant to keep).
 */
export function planPrune(input: PlanPruneInput): PrunePlan {
  assertRetentionPolicy(input.policy);
  if (!(input.now instanceof Date) || Number.isNaN(input.now.getTime())) {
    throw new BackupError('CONFIG_INVALID', 'prune: `now` must be a valid Date');
  }
  // Resolved before anything else so a misspelt zone fails on the first run, not on the first
  // run that happens to have a verified backup.
  const localDayOf = localDayCalculator(input.timeZone);

  const candidates = collectCandidates(input.target, input.manifests);
  candidates.sort(newestFirst);

  if (input.dumpRunning === true) {
    for (const candidate of candidates) keepFor(candidate, { kind: 'dump-running' });
  } else {
    applyRetention(candidates, input.policy, localDayOf);
  }

  const decisions = candidates.map(toDecision);
  let keep = 0;
  for (const decision of decisions) if (decision.action === 'keep') keep++;
  return {
    target: input.target,
    now: input.now.toISOString(),
    timeZone: input.timeZone,
    policy: { ...input.policy },
    decisions,
    keep,
    delete: decisions.length - keep,
  };
}

function collectCandidates(target: string, manifests: readonly Manifest[]): Candidate[] {
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const manifest of manifests) {
    if (manifest.target !== target) continue;
    if (seen.has(manifest.id)) {
      throw new BackupError('MANIFEST_INVALID', `prune: backup ${manifest.id} of ${target} is listed twice`, {
        details: { target, backupId: manifest.id },
      });
    }
    seen.add(manifest.id);
    const createdMs = Date.parse(manifest.createdAt);
    if (Number.isNaN(createdMs)) {
      throw new BackupError(
        'MANIFEST_INVALID',
        `prune: backup ${manifest.id} of ${target} has an unreadable createdAt ${JSON.stringify(manifest.createdAt)}`,
        { details: { target, backupId: manifest.id } },
      );
    }
    candidates.push({
      manifest,
      createdMs,
      verified: isVerified(manifest),
      localDay: undefined,
      reasons: undefined,
    });
  }
  return candidates;
}

// Compared as instants, not strings: '...:00Z' sorts after '...:00.5Z' as text.
function newestFirst(a: Candidate, b: Candidate): number {
  if (a.createdMs !== b.createdMs) return b.createdMs - a.createdMs;
  if (a.manifest.id === b.manifest.id) return 0;
  return a.manifest.id < b.manifest.id ? 1 : -1;
}

/** Adds keep reasons to `candidates` (sorted newest first); those left without one are deleted. */
function applyRetention(candidates: Candidate[], policy: RetentionPolicy, localDayOf: LocalDayOf): void {
  const verified = candidates.filter((candidate) => candidate.verified);
  const newest = verified[0];
  if (!newest) {
    for (const candidate of candidates) keepFor(candidate, { kind: 'no-verified-backup' });
    return;
  }

  keepFor(newest, { kind: 'newest-verified' });
  const floor = Math.min(policy.minVerified, verified.length);
  for (let rank = 1; rank <= floor; rank++) {
    const candidate = verified[rank - 1];
    if (candidate) keepFor(candidate, { kind: 'min-verified', rank });
  }

  for (const kind of periodKinds) {
    const wanted = policy[kind];
    if (wanted === 0) continue;
    // A set rather than "differs from the previous one": where a zone moves its clock back across
    // midnight, local days are not monotonic in time, and a period must still fill one slot only.
    const filled = new Set<number>();
    for (const candidate of verified) {
      candidate.localDay ??= localDayOf(candidate.createdMs);
      const key = periodKey(kind, candidate.localDay);
      if (filled.has(key)) continue;
      filled.add(key);
      keepFor(candidate, { kind, period: periodLabel(kind, candidate.localDay) });
      if (filled.size === wanted) break;
    }
  }

  // Ties with the newest verified backup count as newer: a backup started in the same
  // millisecond may be awaiting its own verification, and keeping it is the safe side.
  for (const candidate of candidates) {
    if (candidate.createdMs < newest.createdMs) break;
    if (!candidate.verified) keepFor(candidate, { kind: 'pending' });
  }
}

function keepFor(candidate: Candidate, reason: PruneReason): void {
  if (candidate.reasons) candidate.reasons.push(reason);
  else candidate.reasons = [reason];
}

function toDecision(candidate: Candidate): PruneDecision {
  const { id, target, createdAt } = candidate.manifest;
  if (candidate.reasons) return { id, target, createdAt, action: 'keep', reasons: candidate.reasons };
  const reason: PruneReason = candidate.verified
    ? { kind: 'outside-policy' }
    : { kind: 'not-verified-superseded' };
  return { id, target, createdAt, action: 'delete', reasons: [reason] };
}
