import {
  type DestinationListing,
  findTarget,
  type Manifest,
  readCatalog,
  targetNamePattern,
  verificationState,
} from '@pgbackup/backup-core/catalog';
import type { CliContext } from '../context.js';
import { exitCodes } from '../exit-codes.js';
import { humanAge, humanBytes, shortTime, table } from '../output.js';

interface BackupsOptions {
  target?: string;
  destination?: string;
}

/** One backup as `backups --json` prints it. */
export interface BackupRow {
  id: string;
  target: string;
  database: string;
  createdAt: string;
  completedAt: string;
  sizeBytes: number;
  compression: Manifest['compression'];
  encrypted: boolean;
  /** `suspicious`: complete, but empty or far smaller than the previous verified backup. */
  status: Manifest['status'];
  verification: ReturnType<typeof verificationState>;
  file: string;
}

/** One backup as `backups --json` lists it: `file` is null when only a bucket holds it. */
export type CatalogRow = Omit<BackupRow, 'file'> & {
  file: string | null;
  /** Destinations whose bucket holds its manifest object (read only when `source` is `union`). */
  destinations: string[];
};

/** `backups --json`. */
export interface BackupsDocument {
  backupDir: string;
  /** `local`: the backup directory; `union`: with a target at retention 0, every destination too. */
  source: 'local' | 'union';
  backups: CatalogRow[];
  /** Manifests that could not be read (also warned about on stderr). */
  problems: Array<{ path: string; message: string }>;
  /** With `union`: how each destination's listing went (`ok: false` with a code: backups missing). */
  destinations: DestinationListing[];
}

export async function backupsCommand(ctx: CliContext, options: BackupsOptions): Promise<number> {
  if (options.destination !== undefined) {
    // The AWS SDK loads only for a bucket's catalog: listing local backups must start fast.
    const { runRemoteBackups } = await import('./remote-backups.js');
    return runRemoteBackups(ctx, options.destination, options.target);
  }
  // Never Redis: the files and their manifests are the record of backups.
  const config = ctx.config({ requireTargets: false });
  if (options.target !== undefined && !targetNamePattern.test(options.target))
    findTarget(config, options.target);
  // The local directory, or with a target at retention 0 the buckets too (readCatalog decides).
  const catalog = await readCatalog(config, options.target === undefined ? {} : { target: options.target });
  if (options.target !== undefined && catalog.backups.length === 0 && config.targets.length > 0) {
    // No backup under that name: a typo gets TARGET_UNKNOWN with a suggestion, a configured target an empty list.
    findTarget(config, options.target);
  }
  const rows: CatalogRow[] = catalog.backups.map(({ manifest, filePath, destinations }) => ({
    ...backupFacts(manifest),
    file: filePath ?? null,
    destinations,
  }));
  for (const problem of catalog.problems) ctx.out.note(`warning: ${problem.where}: ${problem.message}`);
  ctx.out.document({
    backupDir: config.backupDir,
    source: catalog.source,
    backups: rows,
    problems: catalog.problems.map((p) => ({ path: p.where, message: p.message })),
    destinations: catalog.destinations,
  } satisfies BackupsDocument);
  const unlisted = catalog.destinations.filter((d) => !d.ok).map((d) => d.destination);
  const where = [config.backupDir, ...catalog.destinations.map((d) => d.destination)].join(', ');
  if (rows.length === 0) {
    ctx.out.text(`no backups in ${where}${options.target ? ` for ${options.target}` : ''}`);
  } else {
    const union = catalog.source === 'union';
    ctx.out.text(
      table(
        [
          'ID',
          'TARGET',
          'CREATED',
          'SIZE',
          'COMPRESSION',
          'ENCRYPTED',
          'VERIFIED',
          ...(union ? ['WHERE'] : []),
        ],
        rows.map((row) => [
          row.id,
          row.target,
          `${shortTime(row.createdAt)} (${humanAge(row.createdAt)})`,
          humanBytes(row.sizeBytes),
          row.compression,
          row.encrypted ? 'yes' : 'no',
          describeVerification(row),
          ...(union ? [[...(row.file ? ['local'] : []), ...row.destinations].join(',')] : []),
        ]),
      ),
    );
  }
  if (unlisted.length > 0) {
    // An unreachable bucket must not read as "no backups": say the list is incomplete, exit 1
    // (as any other S3 failure of backupctl).
    ctx.out.text(
      `INCOMPLETE: could not list ${unlisted.join(', ')}; backups kept only there are missing above`,
    );
    return exitCodes.failed;
  }
  return exitCodes.ok;
}

/** What a listing shows of a backup, wherever its manifest was read (a directory or a bucket). */
export function backupFacts(manifest: Manifest): Omit<BackupRow, 'file'> {
  return {
    id: manifest.id,
    target: manifest.target,
    database: manifest.database,
    createdAt: manifest.createdAt,
    completedAt: manifest.completedAt,
    sizeBytes: manifest.sizeBytes,
    compression: manifest.compression,
    encrypted: manifest.encryption !== null,
    status: manifest.status,
    verification: verificationState(manifest),
  };
}

export function describeVerification(row: Pick<BackupRow, 'verification' | 'status'>): string {
  const suspicious = row.status === 'suspicious' ? ' (SUSPICIOUS)' : '';
  const state = row.verification;
  if (state.state === 'verified') return `${state.level} ok ${humanAge(state.at)}${suspicious}`;
  if (state.state === 'failed')
    return `${state.level} FAILED ${state.errorCode ?? ''} ${humanAge(state.at)}${suspicious}`;
  return `unverified${suspicious}`;
}
