import fs from 'node:fs/promises';
import path from 'node:path';
import { assertWritableDirectory, type BackupConfig, type TargetConfig } from '@pgbackup/backup-core';
import type { HealthReport } from './health-server.js';

/**
 * Whether this worker's jobs can write where they must: the log directory, the backup directory
 * and each target's own directory in it. A worker that cannot write is alive but not ready: its
 * every dump would fail, so /healthz says so instead of reporting a worker that cannot work as healthy.
 */
export async function directoryChecks(
  config: BackupConfig,
  targets: readonly TargetConfig[],
): Promise<HealthReport['checks']> {
  const places: Array<[name: string, dir: string, what: string]> = [
    ['backupDir', config.backupDir, 'the backup directory (BACKUP_DIR)'],
    ['logDir', config.logDir, 'the log directory (BACKUP_LOG_DIR)'],
  ];
  for (const target of targets) {
    const dir = path.join(config.backupDir, target.name);
    // A target not backed up yet has no directory: its first dump creates it in a checked parent.
    if (
      await fs.stat(dir).then(
        () => true,
        () => false,
      )
    )
      places.push([`target:${target.name}`, dir, `the backup directory of target ${target.name}`]);
  }
  const checks: HealthReport['checks'] = {};
  await Promise.all(
    places.map(async ([name, dir, what]) => {
      try {
        await assertWritableDirectory(dir, what);
        checks[name] = { ok: true };
      } catch (error) {
        checks[name] = { ok: false, detail: (error as Error).message };
      }
    }),
  );
  return checks;
}
