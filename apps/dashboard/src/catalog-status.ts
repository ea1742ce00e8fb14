import {
  type CatalogEntry,
  type Manifest,
  type TargetConfig,
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
 * `missing`: configured, with no verified backup at all. `unmonitored`: backups on disk for a
 * target the configuration no longer has, so there is no maximum age to judge them by.
 */
export type TargetHealth = 'ok' | 'stale' | 'missing' | 'unmonitored';

export const healthLabels: Record<TargetHealth, string> = {
  ok: 'ok',
  stale: 'stale',
  missing: 'no verified backup',
  unmonitored: 'not configured',
};

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
  counts: Record<BackupState, number>;
}

/**
 * The state of every target, configured ones first (in configuration order), then any other
 * target found on disk. Entries come newest first from listBackups.
 */
export function targetStatuses(targets: TargetConfig[], entries: CatalogEntry[], now: Date): TargetStatus[] {
  const names = [...targets.map((target) => target.name)];
  for (const { manifest } of entries) if (!names.includes(manifest.target)) names.push(manifest.target);
  return names.map((name) => {
    const config = targets.find((target) => target.name === name);
    const manifests = entries
      .filter((entry) => entry.manifest.target === name)
      .map((entry) => entry.manifest);
    const counts = Object.fromEntries(backupStates.map((state) => [state, 0])) as Record<BackupState, number>;
    for (const manifest of manifests) counts[backupState(manifest)]++;
    const lastVerified = manifests.find((manifest) => backupState(manifest) === 'verified');
    const verifiedAgeMs = lastVerified ? now.getTime() - Date.parse(lastVerified.createdAt) : undefined;
    let health: TargetHealth;
    if (!config) health = 'unmonitored';
    else if (verifiedAgeMs === undefined) health = 'missing';
    else health = verifiedAgeMs > config.maxAgeMs ? 'stale' : 'ok';
    return {
      target: name,
      config,
      newest: manifests[0],
      lastComplete: manifests.find((manifest) => manifest.status === 'complete'),
      lastVerified,
      verifiedAgeMs,
      health,
      counts,
    };
  });
}

/** Stale in the sense of the alert: a configured target without a recent enough verified backup. */
export function isStale(status: TargetStatus): boolean {
  return status.health === 'stale' || status.health === 'missing';
}
