import type { Manifest } from '@pgbackup/backup-core';

/** The slot a scheduled job belongs to: its id is `repeat:<scheduler id>:<slot in ms>`. */
export function slotOf(manifest: Manifest): number {
  return Number(manifest.jobId?.split(':').at(-1));
}

function nameList(names: readonly string[], limit = 20): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, limit).join(', ');
  return names.length > limit ? `${shown} and ${names.length - limit} more` : shown;
}

/**
 * What the load test saw, slot by slot: backups written, verified, and which targets have none
 * or an unverified one. Printed when the test gives up waiting, so a failure says where it stood.
 */
export function describeLoadProgress(
  manifests: readonly Manifest[],
  slots: readonly number[],
  targets: readonly string[],
): string {
  const lines: string[] = [];
  for (const slot of slots) {
    const of = manifests.filter((m) => slotOf(m) === slot);
    const verified = of.filter((m) => m.verifications.some((v) => v.ok));
    const failed = of.filter((m) => m.verifications.length > 0 && !m.verifications.some((v) => v.ok));
    const withBackup = new Set(of.map((m) => m.target));
    const verifiedTargets = new Set(verified.map((m) => m.target));
    const missing = targets.filter((name) => !withBackup.has(name));
    const unverified = targets.filter((name) => withBackup.has(name) && !verifiedTargets.has(name));
    const lastDone = of.length > 0 ? Math.max(...of.map((m) => Date.parse(m.completedAt))) - slot : undefined;
    lines.push(
      `slot ${new Date(slot).toISOString()}: ${of.length} backups of ${targets.length} targets, ${verified.length} verified, ${failed.length} failed verification` +
        `${lastDone === undefined ? '' : `, last dump done ${Math.round(lastDone / 1000)} s after the slot`}` +
        `; missing: ${nameList(missing)}; not verified: ${nameList(unverified)}`,
    );
  }
  const others = manifests.filter((m) => !slots.includes(slotOf(m)));
  if (others.length > 0) lines.push(`${others.length} backups of other slots or manual jobs`);
  return lines.join('\n');
}
