import type { BackupConfig, Manifest } from '@pgbackup/backup-core';
import { findBackup, isBackupError, listBackups, parseBackupId } from '@pgbackup/backup-core/catalog';
import type { ChainRecord } from './follow.js';

/** The local catalog as the record of a chain whose jobs the queue has let go (chain.ts). */
export function localChainRecord(backupDir: string): ChainRecord {
  return {
    async manifestOfDumpJob(target, jobId) {
      const { entries } = await listBackups(backupDir, { target });
      return entries.find((entry) => entry.manifest.jobId === jobId)?.manifest;
    },
    async manifestOf(backupId) {
      try {
        return (await findBackup(backupDir, backupId)).manifest;
      } catch (error) {
        if (isBackupError(error, 'BACKUP_NOT_FOUND')) return undefined;
        throw error;
      }
    },
  };
}

/**
 * The local catalog, then the destinations' buckets: with local retention 0 a backup's local
 * files are deleted once it is copied, and its manifest object in the bucket (written after the
 * verification, so holding it) is then the only record. The AWS SDK is loaded only when the
 * local catalog does not have the backup.
 */
export function chainRecord(config: Pick<BackupConfig, 'backupDir' | 'destinations'>): ChainRecord {
  const local = localChainRecord(config.backupDir);
  if (config.destinations.length === 0) return local;
  const inBuckets = async (target: string): Promise<Manifest[]> => {
    const { listBackupsEverywhere } = await import('@pgbackup/backup-core/offsite');
    const listing = await listBackupsEverywhere(config.backupDir, config.destinations, { target });
    return listing.backups.map((backup) => backup.manifest);
  };
  return {
    async manifestOfDumpJob(target, jobId) {
      return (
        (await local.manifestOfDumpJob(target, jobId)) ??
        (await inBuckets(target)).find((manifest) => manifest.jobId === jobId)
      );
    },
    async manifestOf(backupId) {
      return (
        (await local.manifestOf(backupId)) ??
        (await inBuckets(parseBackupId(backupId).target)).find((manifest) => manifest.id === backupId)
      );
    },
  };
}
