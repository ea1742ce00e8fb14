import type { PeriodKind } from './periods.js';

/** Why a backup is kept or deleted. A kept backup may have several reasons; a deleted one has one. */
export type PruneReason =
  /** The newest verified backup of this period. Labels: '2026-11-24', '2026-W48' (ISO week-year), '2026-11', '2026'. */
  | { kind: PeriodKind; period: string }
  /** Always kept, whatever the policy. */
  | { kind: 'newest-verified' }
  /** Among the policy's `minVerified` newest verified backups; rank 1 is the newest. */
  | { kind: 'min-verified'; rank: number }
  /** Newer than the newest verified backup: its verification may still be coming. */
  | { kind: 'pending' }
  /** The target has no verified backup at all: nothing is deleted. */
  | { kind: 'no-verified-backup' }
  /** Verified, but fills no slot: deleted. */
  | { kind: 'outside-policy' }
  /** Failed, suspicious or unverified, and older than the newest verified backup: deleted. */
  | { kind: 'not-verified-superseded' }
  /** A dump of the target is running and may be the one that would fill a slot: everything is kept. */
  | { kind: 'dump-running' }
  /** Local only: the policy would delete it, but these destinations have no confirmed copy yet. */
  | { kind: 'awaiting-copy'; missing: string[] }
  /** Local retention 0: every destination has a confirmed copy, so the local file goes. */
  | { kind: 'copied'; destinations: string[] };

/** One line of human text for a CLI or a log, e.g. "daily slot 2026-11-24". */
export function describeReason(reason: PruneReason): string {
  switch (reason.kind) {
    case 'daily':
    case 'weekly':
    case 'monthly':
    case 'yearly':
      return `${reason.kind} slot ${reason.period}`;
    case 'newest-verified':
      return 'newest verified backup';
    case 'min-verified':
      return `minimum verified backups kept (rank ${reason.rank})`;
    case 'pending':
      return 'newer than the newest verified backup, verification may be pending';
    case 'no-verified-backup':
      return 'target has no verified backup, nothing is deleted';
    case 'outside-policy':
      return 'verified, fills no retention slot';
    case 'not-verified-superseded':
      return 'not verified (failed, suspicious or unchecked) and older than the newest verified backup';
    case 'dump-running':
      return 'a dump of this target is running, nothing is deleted';
    case 'awaiting-copy':
      return `no confirmed copy yet in ${reason.missing.join(', ')}, kept until there is`;
    case 'copied':
      return `copied to ${reason.destinations.join(', ')} (retention 0: kept only until copied)`;
  }
}
