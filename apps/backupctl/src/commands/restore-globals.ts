import {
  type BackupConfig,
  type CatalogEntry,
  loadKeyring,
  type RestoreGlobalsResult,
  restoreGlobals,
  sameHost,
  type TargetConfig,
} from '@pgbackup/backup-core';
import type { CliContext } from '../context.js';
import { CliError, exitCodes } from '../exit-codes.js';
import { resolveBackup } from '../resolve.js';
import { serverOfBackup } from '../server-of-backup.js';

/** `restore-globals --json`. */
export interface RestoreGlobalsDocument extends RestoreGlobalsResult {
  /** The configured target whose server (and credentials) the roles were replayed into. */
  server: string;
  dryRun: boolean;
}

interface Options {
  to?: string;
  dryRun?: boolean;
  force?: boolean;
}

export async function restoreGlobalsCommand(
  ctx: CliContext,
  backupId: string,
  options: Options,
): Promise<number> {
  const config = ctx.config();
  const entry = await resolveBackup(config.backupDir, backupId);
  const server = globalsServer(config, entry, options.to);
  const result = await replayGlobals(ctx, config, entry, server, {
    dryRun: options.dryRun === true,
    force: options.force === true,
  });
  ctx.out.document({
    ...result,
    server: server.name,
    dryRun: options.dryRun === true,
  } satisfies RestoreGlobalsDocument);
  return result.failed > 0 ? exitCodes.failed : exitCodes.ok;
}

/** Replays and prints each step; shared with `restore --with-globals`. */
export async function replayGlobals(
  ctx: CliContext,
  config: BackupConfig,
  entry: CatalogEntry,
  server: TargetConfig,
  flags: { dryRun: boolean; force: boolean },
): Promise<RestoreGlobalsResult> {
  const { keyring } = await loadKeyring(config);
  ctx.out.note(
    `${flags.dryRun ? 'dry run: ' : ''}replaying globals ${entry.manifest.id} into ${server.displayUrl.replace(/\/[^/]*$/, '')} (credentials of target ${server.name})`,
  );
  const result = await restoreGlobals({
    backupDir: config.backupDir,
    id: entry.manifest.id,
    keyring,
    server: server.connection,
    dryRun: flags.dryRun,
    force: flags.force,
  });
  for (const step of result.steps) {
    if (step.kind === 'session') continue;
    const first = step.sql.split('\n')[0]!;
    ctx.out.text(
      `${step.action.toUpperCase().padEnd(11)} ${first}${step.reason ? `  (${step.reason})` : ''}`,
    );
  }
  const count = (action: string) =>
    result.steps.filter((s) => s.kind !== 'session' && s.action === action).length;
  ctx.out.text(
    `${result.failed > 0 ? 'FAILED' : 'OK'}  globals ${entry.manifest.id}: ${flags.dryRun ? `${count('would-apply')} would be applied` : `${count('applied')} applied`}, ${count('skipped')} skipped, ${result.failed} failed`,
  );
  return result;
}

/** The server a globals backup is replayed into: --to (a configured target's server), or its own. */
function globalsServer(config: BackupConfig, entry: CatalogEntry, to: string | undefined): TargetConfig {
  if (entry.manifest.format !== 'globals') {
    throw new CliError(
      'USAGE',
      `${entry.manifest.id} is a database backup, not a globals backup: restore it with backupctl restore`,
      exitCodes.usage,
    );
  }
  if (to === undefined) {
    const server = serverOfBackup(config, entry);
    if (server) return server;
    throw new CliError(
      'TARGET_UNKNOWN',
      `the server of ${entry.manifest.target} is not configured, so there is no server to replay into`,
      exitCodes.usage,
      'Pass --to postgresql://host:port/postgres naming the server of a configured target.',
    );
  }
  if (!URL.canParse(to) || !/^postgres(ql)?:$/.test(new URL(to).protocol))
    throw new CliError('USAGE', `--to ${JSON.stringify(to)} is not a postgresql:// URL`, exitCodes.usage);
  const url = new URL(to);
  if (url.password !== '')
    throw new CliError(
      'PASSWORD_IN_URL',
      "--to holds a password: the configured target's credentials are used",
      exitCodes.usage,
    );
  const host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 5432 : Number(url.port);
  const user = decodeURIComponent(url.username);
  const server = config.targets.find(
    (t) =>
      sameHost(t.connection.host, host) &&
      t.connection.port === port &&
      (user === '' || t.connection.user === user),
  );
  if (!server) {
    throw new CliError(
      'SERVER_UNKNOWN',
      `no configured target is on ${user ? `${user}@` : ''}${host}:${port}: the replay uses the credentials of a configured target`,
      exitCodes.usage,
    );
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return database === '' ? server : { ...server, connection: { ...server.connection, database } };
}
