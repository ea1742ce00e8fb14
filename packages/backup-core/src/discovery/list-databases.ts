import type { PgConnection } from '../config/types.js';
import { BackupError } from '../errors.js';
import { connect, postgresError } from '../postgres/connection.js';
import { type DatabaseRow, type Discovery, type DiscoveryRule, selectDatabases } from './select.js';

/** Every database of the server `connection` points at, read through its database (the maintenance one). */
export async function listDatabases(connection: PgConnection): Promise<DatabaseRow[]> {
  const client = await connect(connection);
  try {
    const result = await client.query<{ name: string; allow: boolean; invalid: boolean }>(
      'SELECT datname AS name, datallowconn AS allow, datconnlimit = -2 AS invalid FROM pg_catalog.pg_database',
    );
    return result.rows.map((row) => ({ name: row.name, allowConnections: row.allow, invalid: row.invalid }));
  } catch (error) {
    throw postgresError(
      error,
      `could not list the databases of ${connection.host}:${connection.port}`,
      'PG_UNREACHABLE',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Lists the server's databases and selects those `rule` backs up. Errors are the connection's
 * (PG_UNREACHABLE, PG_AUTH_FAILED, ...): a failed discovery never looks like an empty server.
 */
export async function discoverDatabases(
  server: string,
  connection: PgConnection,
  rule: DiscoveryRule,
): Promise<Discovery> {
  const rows = await listDatabases(connection);
  if (rows.length === 0)
    throw new BackupError('PG_UNREACHABLE', `the server of ${server} listed no database at all`);
  return selectDatabases(server, rows, rule, connection.database);
}
