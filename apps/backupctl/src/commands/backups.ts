import {
  findTarget,
  listBackups,
  type Manifest,
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

/** `backups --json`. */
export interface BackupsDocument {
  backupDir: string;
  backups: BackupRow[];
  /** Manifests that could not be read (also printed on stderr). */
  problems: Array<{ path: string; message: string }>;
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
  const listing = await listBackups(
    config.backupDir,
    options.target === undefined ? {} : { target: options.target },
  );
  if (options.target !== undefined && listing.entries.length === 0 && config.targets.length > 0) {
    // No backup under that name: a typo gets TARGET_UNKNOWN with a suggestion, a configured target an empty list.
    findTarget(config, options.target);
  }
  const rows: BackupRow[] = listing.entries.map(({ manifest, filePath }) => ({
    ...backupFacts(manifest),
    file: filePath,
  }));
  for (const problem of listing.problems)
    ctx.out.note(`warning: unreadable manifest ${problem.path}: ${problem.message}`);
  ctx.out.document({
    backupDir: config.backupDir,
    backups: rows,
    problems: listing.problems,
  } satisfies BackupsDocument);
  if (rows.length === 0) {
    ctx.out.text(`no backups in ${config.backupDir}${options.target ? ` for ${options.target}` : ''}`);
    return exitCodes.ok;
  }
  ctx.out.text(
    table(
      ['ID', 'TARGET', 'CREATED', 'SIZE', 'COMPRESSION', 'ENCRYPTED', 'VERIFIED'],
      rows.map((row) => [
        row.id,
        row.target,
        `${shortTime(row.createdAt)} (${humanAge(row.createdAt)})`,
        humanBytes(row.sizeBytes),
        row.compression,
        row.encrypted ? 'yes' : 'no',
        describeVerification(row),
      ]),
    ),
  );
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
