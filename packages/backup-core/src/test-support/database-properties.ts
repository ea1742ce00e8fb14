import { withDatabase } from '@pgbackup/testkit';
import { runDump } from '../dump/dump.js';
import type { PgConnection } from '../postgres/connection.js';
import { quoteIdent } from '../postgres/scratch.js';
import { connectionOf, createTestDatabase, dumpTarget, type Workspace, workspace } from './fixtures.js';
import { withClient } from './sample-database.js';

export interface DatabasePropertiesOptions {
  label: string;
  /** Roles created for the test: `owner` owns the database, `reader` may connect. */
  owner: string;
  reader: string;
  /** Rows of the database's one table `t`. */
  rows: number;
  /** The privileges revoked from PUBLIC (`CONNECT, TEMPORARY`, `TEMPORARY`). */
  revokeFromPublic: string;
  /** Run after the properties, with `db` the quoted database name. */
  moreSql?: (db: string) => string;
}

export interface DatabasePropertiesBackup {
  ws: Workspace;
  sourceUrl: string;
  sourceName: string;
  backupId: string;
  /** The source's server, at its `postgres` database. */
  server(): PgConnection;
}

/**
 * A database with properties of its own, set on the database and not inside it (owner, two
 * settings, a role-in-database setting, a comment with quotes, its privileges), and its backup
 * in a fresh workspace: where the restore and verify tests of those properties start.
 */
export async function backupWithDatabaseProperties(
  options: DatabasePropertiesOptions,
): Promise<DatabasePropertiesBackup> {
  const { owner, reader } = options;
  const source = await createTestDatabase(options.label);
  const db = quoteIdent(source.name);
  await source.query(`CREATE TABLE public.t AS SELECT g AS id FROM generate_series(1, ${options.rows}) g`);
  await withClient(withDatabase(source.url, 'postgres'), (client) =>
    client.query(`
      CREATE ROLE ${owner} NOLOGIN;
      CREATE ROLE ${reader} LOGIN;
      ALTER DATABASE ${db} OWNER TO ${owner};
      ALTER DATABASE ${db} SET work_mem = '8MB';
      ALTER DATABASE ${db} SET search_path = 'app', 'public';
      ALTER ROLE ${reader} IN DATABASE ${db} SET statement_timeout = '3s';
      COMMENT ON DATABASE ${db} IS 'orders; kept ''for ever''';
      REVOKE ${options.revokeFromPublic} ON DATABASE ${db} FROM PUBLIC;
      GRANT CONNECT ON DATABASE ${db} TO ${reader};
      ${options.moreSql?.(db) ?? ''}
    `),
  );
  const ws = await workspace();
  const { manifest } = await runDump({
    target: dumpTarget(source),
    backupDir: ws.backupDir,
    logDir: ws.logDir,
  });
  return {
    ws,
    sourceUrl: source.url,
    sourceName: source.name,
    backupId: manifest.id,
    server: () => connectionOf(withDatabase(source.url, 'postgres')),
  };
}
