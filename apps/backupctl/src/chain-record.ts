import { findBackup, isBackupError, listBackups } from '@pgbackup/backup-core/catalog';
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
