import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { OperatorKey } from '../crypto/index.js';
import { BackupError } from '../errors.js';
import { parseGlobals } from '../globals/globals-sql.js';
import { connect, type PgConnection, postgresError } from '../postgres/connection.js';
import { quoteIdent } from '../postgres/scratch.js';
import type { CatalogEntry } from '../storage/catalog.js';
import { readArchivePrefix } from './archive-pass.js';

/** What the statement sets: each kind can be left out on its own (noOwner leaves owner and grants). */
export type PropertyKind = 'owner' | 'setting' | 'comment' | 'privileges' | 'security-label';

export interface DatabaseProperty {
  kind: PropertyKind;
  /** The statement with `%DATABASE%` where the database's name goes. */
  template: string;
}

const ident = `("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
/** Each statement of the archive's DATABASE entries this restore carries over, and its kind. */
const statementPatterns: Array<[PropertyKind | ((sql: string) => PropertyKind), RegExp]> = [
  [(sql) => (/ OWNER TO /.test(sql) ? 'owner' : 'setting'), new RegExp(`^(ALTER DATABASE )${ident}`, 's')],
  ['setting', new RegExp(`^(ALTER ROLE ${ident} IN DATABASE )${ident}`, 's')],
  ['comment', new RegExp(`^(COMMENT ON DATABASE )${ident}`, 's')],
  ['security-label', new RegExp(`^(SECURITY LABEL (?:FOR \\S+ )?ON DATABASE )${ident}`, 's')],
  ['privileges', new RegExp(`^((?:GRANT|REVOKE) [^']*? ON DATABASE )${ident}`, 's')],
];

/**
 * The archive's DATABASE, DATABASE PROPERTIES and the database's COMMENT, ACL and SECURITY LABEL
 * entries, the ones pg_restore applies only with --create (a restore into another name cannot
 * use --create): the database's owner, its `ALTER DATABASE ... SET` and `ALTER ROLE ... IN
 * DATABASE ... SET` settings, comment and privileges. Read in two short passes (the list, then
 * those entries' SQL); the data is never read.
 */
export async function readDatabaseProperties(
  entry: CatalogEntry,
  keyring: readonly OperatorKey[],
  pgRestore: string,
  signal?: AbortSignal,
): Promise<DatabaseProperty[]> {
  const run = (args: string[]) =>
    readArchivePrefix(
      entry,
      {
        name: `pg_restore ${args.join(' ').slice(0, 40)}`,
        pgRestore,
        args,
        env: { ...process.env },
        failureCode: 'ARCHIVE_UNREADABLE',
        stdout: 'pipe',
      },
      { keyring, ...(signal ? { signal } : {}) },
    );
  // Without --create, --list leaves these entries out too.
  const list = (await run(['--create', '--list']))
    .split('\n')
    .filter((line) =>
      /^\d+; \d+ \d+ (DATABASE( PROPERTIES)? |(COMMENT|ACL|SECURITY LABEL) - DATABASE )/.test(line),
    );
  if (list.length === 0) return [];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-dbprops-'));
  try {
    const listFile = path.join(dir, 'entries.list');
    await fs.writeFile(listFile, `${list.join('\n')}\n`, { mode: 0o600 });
    return databaseProperties(await run(['--create', '--use-list', listFile, '--file', '-']));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The statements of that SQL that set a property, the database's name made a placeholder. */
export function databaseProperties(sql: string): DatabaseProperty[] {
  const properties: DatabaseProperty[] = [];
  for (const { sql: statement } of parseGlobals(sql)) {
    // pg_dump grants a privilege given by a role other than the owner as that role (the ACL
    // records its grantor): kept with the privileges, and left out with them.
    if (/^(RE)?SET SESSION AUTHORIZATION\b/.test(statement)) {
      properties.push({ kind: 'privileges', template: statement });
      continue;
    }
    for (const [kind, pattern] of statementPatterns) {
      const match = pattern.exec(statement);
      if (!match) continue;
      const prefix = match[1]!;
      const databaseIdent = match.at(-1)!;
      properties.push({
        kind: typeof kind === 'function' ? kind(statement) : kind,
        template: `${prefix}%DATABASE%${statement.slice(prefix.length + databaseIdent.length)}`,
      });
      break;
    }
  }
  return properties;
}

/**
 * Applies the properties to database `database` (connected through `server`'s maintenance
 * database). A failure (an owner role that does not exist here, say) is RESTORE_FAILED naming
 * the statement: the caller drops its staging database, nothing half-applied is kept.
 */
export async function applyDatabaseProperties(
  server: PgConnection,
  database: string,
  properties: readonly DatabaseProperty[],
  options: { noOwner?: boolean; databaseOnly?: boolean } = {},
): Promise<number> {
  const wanted = properties.filter(
    (property) =>
      !(options.noOwner && (property.kind === 'owner' || property.kind === 'privileges')) &&
      // Role settings and labels name roles and providers this server may not have.
      !(
        options.databaseOnly &&
        (property.template.startsWith('ALTER ROLE') || property.kind === 'security-label')
      ),
  );
  if (wanted.length === 0) return 0;
  const client = await connect(server);
  try {
    for (const property of wanted) {
      const sql = property.template.replace('%DATABASE%', quoteIdent(database));
      try {
        await client.query(sql);
      } catch (error) {
        const cause = postgresError(error, 'applying a database property', 'RESTORE_FAILED');
        throw new BackupError(
          'RESTORE_FAILED',
          `could not apply the database's ${property.kind} (${property.template.replace('%DATABASE%', '<database>').slice(0, 200)}): ${(error as Error).message}${property.kind === 'owner' || property.kind === 'privileges' ? '; restore with --no-owner when the roles do not exist on this server (or replay the globals first: backupctl restore-globals)' : ''}`,
          { cause },
        );
      }
    }
    return wanted.length;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A database's properties as the server has them, for comparisons (verify, tests). */
export interface DatabasePropertyState {
  owner: string;
  comment: string | null;
  /** `ALTER DATABASE ... SET` settings, sorted. */
  settings: string[];
  /** `ALTER ROLE r IN DATABASE ... SET` settings, `r: setting`, sorted. */
  roleSettings: string[];
  /** The database's ACL, `{}` style, as text; null for the default. */
  acl: string | null;
}

export async function readDatabasePropertyState(
  server: PgConnection,
  database: string,
): Promise<DatabasePropertyState> {
  const client = await connect(server);
  try {
    const { rows } = await client.query<DatabasePropertyState>(
      `SELECT pg_get_userbyid(d.datdba) AS owner,
              shobj_description(d.oid, 'pg_database') AS comment,
              ARRAY(SELECT unnest(s.setconfig) FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0 ORDER BY 1) AS settings,
              ARRAY(SELECT pg_get_userbyid(s.setrole) || ': ' || c FROM pg_db_role_setting s, unnest(s.setconfig) c
                    WHERE s.setdatabase = d.oid AND s.setrole <> 0 ORDER BY 1) AS "roleSettings",
              d.datacl::text AS acl
       FROM pg_database d WHERE d.datname = $1`,
      [database],
    );
    if (!rows[0])
      throw new BackupError('PG_DATABASE_MISSING', `database ${JSON.stringify(database)} does not exist`);
    return rows[0];
  } finally {
    await client.end().catch(() => undefined);
  }
}
