import { BackupError } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import type { CliContext } from '../context.js';
import { exitCodes } from '../exit-codes.js';
import { humanAge, humanBytes, shortTime, table } from '../output.js';
import { type BackupRow, backupFacts, describeVerification } from './backups.js';

/** `backups --destination NAME --json`: the catalog of one bucket, from its manifest objects alone. */
export interface RemoteBackupsDocument {
  destination: string;
  bucket: string;
  backups: Array<
    Omit<BackupRow, 'file'> & { key: string; copies: Array<{ destination: string; confirmedAt: string }> }
  >;
  problems: Array<{ key: string; message: string }>;
}

/** Lists a destination's backups: no local file needed, so another host (or a new one) sees them. */
export async function runRemoteBackups(
  ctx: CliContext,
  destinationName: string,
  target: string | undefined,
): Promise<number> {
  const config = ctx.config({ requireTargets: false });
  const destination = config.destinations.find((d) => d.name === destinationName);
  if (!destination) {
    const known = config.destinations.map((d) => d.name).join(', ') || '(none configured)';
    throw new BackupError(
      'DESTINATION_UNKNOWN',
      `no destination named ${destinationName}; configured: ${known}`,
    );
  }
  const store = new RemoteStore(destination);
  try {
    const listing = await store.list(target === undefined ? {} : { target });
    const backups: RemoteBackupsDocument['backups'] = listing.entries.map(({ manifest, dataKey }) => ({
      ...backupFacts(manifest),
      key: dataKey,
      copies: (manifest.copies ?? []).map((c) => ({
        destination: c.destination,
        confirmedAt: c.confirmedAt,
      })),
    }));
    for (const problem of listing.problems)
      ctx.out.note(`warning: unreadable manifest object ${problem.key}: ${problem.message}`);
    ctx.out.document({
      destination: destination.name,
      bucket: destination.bucket,
      backups,
      problems: listing.problems,
    } satisfies RemoteBackupsDocument);
    if (backups.length === 0) {
      ctx.out.text(`no backups in ${destination.name}${target ? ` for ${target}` : ''}`);
      return exitCodes.ok;
    }
    ctx.out.text(
      table(
        ['ID', 'TARGET', 'CREATED', 'SIZE', 'ENCRYPTED', 'VERIFIED', 'KEY'],
        backups.map((row) => [
          row.id,
          row.target,
          `${shortTime(row.createdAt)} (${humanAge(row.createdAt)})`,
          humanBytes(row.sizeBytes),
          row.encrypted ? 'yes' : 'no',
          describeVerification(row),
          row.key,
        ]),
      ),
    );
    return exitCodes.ok;
  } finally {
    store.close();
  }
}
