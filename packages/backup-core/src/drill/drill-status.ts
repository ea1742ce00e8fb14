import type { Drill, Manifest } from '../manifest.js';

export interface DrillOfBackup extends Drill {
  backupId: string;
}

export interface DrillStatus {
  /** The newest drill of the target, whatever its outcome. */
  last?: DrillOfBackup;
  /** The newest successful one. */
  lastSuccess?: DrillOfBackup;
  /** Every drill of the target, oldest first (for charts). */
  history: DrillOfBackup[];
}

/**
 * A target's drills, read from its manifests (the files are the record). Drills live in the
 * manifest of the backup they restored, so a pruned backup takes its drills with it; the newest
 * drills are on the newest verified backups, which retention keeps longest.
 */
export function drillStatus(manifests: readonly Manifest[]): DrillStatus {
  const history = manifests
    .flatMap((manifest) => (manifest.drills ?? []).map((drill) => ({ ...drill, backupId: manifest.id })))
    .sort((a, b) => a.at.localeCompare(b.at));
  const last = history.at(-1);
  const lastSuccess = history.findLast((drill) => drill.ok);
  return { history, ...(last ? { last } : {}), ...(lastSuccess ? { lastSuccess } : {}) };
}
