import {
  type BackupConfig,
  type CatalogEntry,
  globalsTargetName,
  listBackups,
  type TargetConfig,
} from '@pgbackup/backup-core';

/**
 * The configured target whose server holds the backup's database: its own target, or the server
 * target that discovered it (`<server>.<database>`, `<server>.globals`). Undefined when neither
 * is configured here.
 */
export function serverOfBackup(
  config: BackupConfig,
  entry: Pick<CatalogEntry, 'manifest'>,
): TargetConfig | undefined {
  const target = entry.manifest.target;
  const own = config.targets.find((candidate) => candidate.name === target);
  if (own) return own;
  return config.targets.find((candidate) => candidate.discover && target.startsWith(`${candidate.name}.`));
}

/** The newest globals backup of server target `server` (verified ones first), if any. */
export async function newestGlobals(backupDir: string, server: string): Promise<CatalogEntry | undefined> {
  const { entries } = await listBackups(backupDir, { target: globalsTargetName(server) });
  const verified = entries.find((entry) => entry.manifest.verifications.at(-1)?.ok === true);
  return verified ?? entries[0];
}
