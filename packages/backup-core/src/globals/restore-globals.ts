import type { OperatorKey } from '../crypto/index.js';
import { BackupError } from '../errors.js';
import { connect, type PgConnection } from '../postgres/connection.js';
import { type CatalogEntry, findBackup } from '../storage/catalog.js';
import { type GlobalsStatement, parseGlobals } from './globals-sql.js';
import { readGlobalsSql } from './read-globals.js';

export interface RestoreGlobalsOptions {
  backupDir: string;
  id: string;
  keyring: readonly OperatorKey[];
  /** The server to replay into (any database of it: roles and tablespaces are cluster-wide). */
  server: PgConnection;
  /**
   * The globals backup, when it is not in `backupDir`'s catalog (a download from a destination,
   * for a drill of a backup kept only in a bucket): its file and manifest.
   */
  entry?: CatalogEntry;
  /** Only say what would be done. Default false. */
  dryRun?: boolean;
  /**
   * Also apply the settings, comments and attributes (password included) of roles that already
   * exist. Never to the role the replay connects as. Default false: existing roles are skipped.
   */
  force?: boolean;
  signal?: AbortSignal;
}

export type GlobalsAction = 'applied' | 'would-apply' | 'skipped' | 'failed';

export interface GlobalsStep {
  action: GlobalsAction;
  kind: GlobalsStatement['kind'];
  name?: string;
  /** Why skipped or failed. */
  reason?: string;
  /** The statement, without any password literal. */
  sql: string;
}

export interface RestoreGlobalsResult {
  backupId: string;
  steps: GlobalsStep[];
  failed: number;
}

/**
 * Replays a globals backup (`<server>.globals`) into a server, statement by statement: a role
 * or tablespace that already exists is skipped (and, without `force`, so are its settings), and
 * a statement that fails is reported and the others go on, since roles are independent of each
 * other. The file is checked against its checksum first. Returns every step, for the CLI to print.
 */
export async function restoreGlobals(options: RestoreGlobalsOptions): Promise<RestoreGlobalsResult> {
  const entry = options.entry ?? (await findBackup(options.backupDir, options.id));
  if (entry.manifest.format !== 'globals') {
    throw new BackupError(
      'BACKUP_NOT_FOUND',
      `backup ${options.id} is a database backup, not a globals backup (<server>.globals): restore it with backupctl restore`,
    );
  }
  const sql = await readGlobalsSql(entry, options.keyring, options.signal);
  const statements = parseGlobals(sql);
  const client = await connect(options.server);
  try {
    const { rows } = await client.query<{ name: string; me: boolean }>(
      'SELECT rolname AS name, rolname = current_user AS me FROM pg_catalog.pg_roles',
    );
    const roles = new Set(rows.map((row) => row.name));
    const me = rows.find((row) => row.me)?.name;
    const tablespaces = new Set(
      (await client.query<{ name: string }>('SELECT spcname AS name FROM pg_catalog.pg_tablespace')).rows.map(
        (row) => row.name,
      ),
    );
    const steps: GlobalsStep[] = [];
    for (const statement of statements) {
      if (options.signal?.aborted)
        throw new BackupError('ABORTED', `aborted: ${String(options.signal.reason)}`);
      const shown = hidePasswords(statement.sql);
      const base = { kind: statement.kind, ...(statement.name ? { name: statement.name } : {}), sql: shown };
      const skip = skipReason(statement, roles, tablespaces, me, options.force ?? false);
      if (skip) {
        steps.push({ ...base, action: 'skipped', reason: skip });
        continue;
      }
      if (options.dryRun) {
        steps.push({ ...base, action: statement.kind === 'session' ? 'applied' : 'would-apply' });
        if (statement.kind === 'session') await client.query(statement.sql);
        continue;
      }
      try {
        await client.query(statement.sql);
        steps.push({ ...base, action: 'applied' });
      } catch (error) {
        const message = (error as Error).message;
        // A membership granted again is no news.
        if (/is already a member of role/i.test(message))
          steps.push({ ...base, action: 'skipped', reason: message });
        else steps.push({ ...base, action: 'failed', reason: message });
      }
    }
    return { backupId: options.id, steps, failed: steps.filter((step) => step.action === 'failed').length };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function skipReason(
  statement: GlobalsStatement,
  roles: ReadonlySet<string>,
  tablespaces: ReadonlySet<string>,
  me: string | undefined,
  force: boolean,
): string | undefined {
  const { kind, name } = statement;
  if (name === undefined) return undefined;
  if (kind === 'create-role' && roles.has(name)) return 'the role exists';
  if (kind === 'create-tablespace' && tablespaces.has(name)) return 'the tablespace exists';
  if ((kind === 'alter-role' || kind === 'comment-role') && roles.has(name)) {
    if (name === me) return 'the role this restore connects as is never changed';
    if (!force) return 'the role existed before (--force applies its settings)';
  }
  return undefined;
}

/** A role's password hash is a secret too: never printed. */
function hidePasswords(sql: string): string {
  return sql.replace(/PASSWORD '(?:[^']|'')*'/g, "PASSWORD '***'");
}
