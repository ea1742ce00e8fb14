import type { BackupConfig, DestinationConfig, Manifest } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import { CliError, exitCodes } from './exit-codes.js';

/** The configured destination `name`; an unknown name is a usage error listing the configured ones. */
export function chooseDestination(config: BackupConfig, name: string): DestinationConfig {
  const destination = config.destinations.find((d) => d.name === name);
  if (destination) return destination;
  const known = config.destinations.map((d) => d.name).join(', ') || '(none configured)';
  throw new CliError(
    'DESTINATION_UNKNOWN',
    `no destination named ${name}; configured: ${known}`,
    exitCodes.usage,
    'Destinations come from `destinations:` in the config file and from BACKUP_S3_BUCKET (named s3).',
  );
}

/** The manifest object of `backupId` in a destination (BACKUP_NOT_FOUND, exit 2, when absent). */
export async function remoteManifest(destination: DestinationConfig, backupId: string): Promise<Manifest> {
  const store = new RemoteStore(destination);
  try {
    return (await store.find(backupId)).manifest;
  } finally {
    store.close();
  }
}
