import {
  type Manifest,
  type TargetConfig,
  type TargetFailure,
  type TargetHealthState,
  targetHealth,
  verificationState,
} from '@pgbackup/backup-core';

/** One word per backup for counts and metrics: suspicious wins, then the latest verification. */
export const backupStates = ['verified', 'unverified', 'failed', 'suspicious'] as const;
export type BackupState = (typeof backupStates)[number];

export function backupState(manifest: Manifest): BackupState {
  if (manifest.status === 'suspicious') return 'suspicious';
  return verificationState(manifest).state;
}

/**
 * The health rule's word (targetHealth in backup-core: ok, stale, missing, failing), or
 * `unmonitored`: backups on disk for a target the configuration no longer has, so there is no
 * maximum age to judge them by.
 */
export type TargetHealth = TargetHealthState | 'unmonitored';

export const healthLabels: Record<TargetHealth, string> = {
  ok: 'ok',
  stale: 'stale',
  missing: 'no verified backup',
  failing: 'failing',
  unmonitored: 'not configured',
};

/**
 * What the page says of a target: every problem at once, as `backupctl status` prints
 * STALE+FAILING (the one-word state would hide that a failing target is also stale).
 */
export function healthText(
  status: Pick<TargetStatus, 'health' | 'stale' | 'failing' | 'lastVerified'>,
): string {
  if (status.health === 'unmonitored') return healthLabels.unmonitored;
  const words: string[] = [];
  if (!status.lastVerified) words.push(healthLabels.missing);
  else if (status.stale) words.push(healthLabels.stale);
  if (status.failing) words.push(healthLabels.failing);
  return words.join(' + ') || healthLabels.ok;
}

export interface TargetStatus {
  target: string;
  config: TargetConfig | undefined;
  /** Newest backup whatever its state. */
  newest: Manifest | undefined;
  /** Newest backup whose dump completed normally (not suspicious). */
  lastComplete: Manifest | undefined;
  lastVerified: Manifest | undefined;
  /** Age of the newest verified backup, from the snapshot it holds (createdAt). */
  verifiedAgeMs: number | undefined;
  health: TargetHealth;
  /** The health rule's stale: what pgbackup_stale and the stale alert say (never for unmonitored). */
  stale: boolean;
  /** No verified backup yet, within a new target's grace period. */
  inGrace: boolean;
  /** The health rule's failing (as `status`); null when failures could not be read (Redis away). */
  failing: boolean | null;
  counts: Record<BackupState, number>;
}

/**
 * The state of every target, configured ones first (in configuration order), then any other
 * target found in the catalog. Entries come newest first from readCatalog. Health is targetHealth's,
 * with each target's newest final failure (newestFailureByTarget, as `status` reads them);
 * `failures` null: unknown (Redis away), so no target is called failing or ok on that count.
 */
export function targetStatuses(
  targets: TargetConfig[],
  entries: ReadonlyArray<{ manifest: Manifest }>,
  now: Date,
  watchedSince?: Map<string, Date>,
  failures?: Map<string, TargetFailure> | null,
): TargetStatus[] {
  // A server target has no backups of its own (its databases appear through their manifests).
  const names = [...targets.filter((target) => !target.discover).map((target) => target.name)];
  for (const { manifest } of entries) if (!names.includes(manifest.target)) names.push(manifest.target);
  return names.map((name) => {
    const config = targets.find((target) => target.name === name);
    const manifests = entries
      .filter((entry) => entry.manifest.target === name)
      .map((entry) => entry.manifest);
    const counts = Object.fromEntries(backupStates.map((state) => [state, 0])) as Record<BackupState, number>;
    for (const manifest of manifests) counts[backupState(manifest)]++;
    const health = config
      ? targetHealth({
          maxAgeMs: config.maxAgeMs,
          manifests,
          now,
          watchedSince: watchedSince?.get(name),
          lastFailure: failures === null ? null : failures?.get(name),
        })
      : undefined;
    const lastVerified = manifests.find((manifest) => backupState(manifest) === 'verified');
    return {
      target: name,
      config,
      newest: manifests[0],
      lastComplete: manifests.find((manifest) => manifest.status === 'complete'),
      lastVerified,
      verifiedAgeMs: lastVerified ? now.getTime() - Date.parse(lastVerified.createdAt) : undefined,
      health: health?.state ?? 'unmonitored',
      stale: health?.stale ?? false,
      inGrace: health?.inGrace ?? false,
      failing: health ? health.failing : false,
      counts,
    };
  });
}
