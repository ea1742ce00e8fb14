import { isVerified, type Manifest } from '../manifest.js';

/** One destination of a target, as `status`, the dashboard and its metrics judge it. */
export interface DestinationCopyHealth {
  destination: string;
  /** The newest backup with a confirmed copy in the destination. */
  lastCopied: { id: string; createdAt: string; confirmedAt: string } | undefined;
  /**
   * A verified backup older than the target's maximum age has no confirmed copy here, and no
   * newer backup has one either: the destination has fallen behind (the copies failed past their
   * retries, or were never made). A backup verified within the maximum age may still be copying.
   */
  behind: boolean;
  /** The oldest verified backup that makes the destination behind. */
  uncopied: { id: string; createdAt: string } | undefined;
}

/**
 * Whether each destination of a target holds a recent copy: the one rule for `status`, the
 * dashboard and `pgbackup_copy_behind`, beside targetHealth (target-health.ts). Pure.
 * `manifests`: the target's backups, newest first, with their confirmed `copies`.
 */
export function copyHealth(input: {
  destinations: readonly string[];
  manifests: readonly Manifest[];
  maxAgeMs: number;
  now: Date;
}): DestinationCopyHealth[] {
  const now = input.now.getTime();
  return input.destinations.map((destination) => {
    const index = input.manifests.findIndex((m) => m.copies?.some((c) => c.destination === destination));
    const copied = index === -1 ? undefined : input.manifests[index]!;
    const confirmedAt = copied?.copies?.find((c) => c.destination === destination)?.confirmedAt;
    const newer = index === -1 ? input.manifests : input.manifests.slice(0, index);
    const late = newer.filter((m) => isVerified(m) && now - Date.parse(m.createdAt) > input.maxAgeMs).at(-1);
    return {
      destination,
      lastCopied:
        copied && confirmedAt ? { id: copied.id, createdAt: copied.createdAt, confirmedAt } : undefined,
      behind: late !== undefined,
      uncopied: late ? { id: late.id, createdAt: late.createdAt } : undefined,
    };
  });
}
