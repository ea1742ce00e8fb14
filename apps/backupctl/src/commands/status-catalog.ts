import { type BackupConfig, listBackups, type Manifest } from '@pgbackup/backup-core';

/**
 * The manifests `status` judges. The local directory, unless a target keeps backups only until
 * they are copied (retention 0): its local directory is nearly empty by design, and the bucket
 * is its repository, so the catalog is the union of the local and the destinations' manifests.
 * Otherwise the local manifests suffice (the local prune keeps every verified backup until its
 * copies are confirmed, and records them), and status needs no S3 request.
 */
export async function statusCatalog(
  config: BackupConfig,
): Promise<{ manifests: Manifest[]; problems: Array<{ where: string; message: string }> }> {
  if (config.targets.some((target) => target.retention.untilCopied)) {
    // Only a target with retention 0 needs the buckets: the AWS SDK loads for it alone.
    const { listBackupsEverywhere } = await import('@pgbackup/backup-core/offsite');
    const union = await listBackupsEverywhere(config.backupDir, config.destinations);
    return { manifests: union.backups.map((b) => b.manifest), problems: union.problems };
  }
  const local = await listBackups(config.backupDir);
  return {
    manifests: local.entries.map((entry) => entry.manifest),
    problems: local.problems.map((p) => ({ where: `unreadable manifest ${p.path}`, message: p.message })),
  };
}
