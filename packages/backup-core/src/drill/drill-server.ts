import { BackupError } from '../errors.js';
import { connect, type PgConnection } from '../postgres/connection.js';
import { sameHost } from '../restore/protected.js';

/**
 * Refuses a drill server that is the server of a configured target (same host and port), unless
 * `allow`: a drill restores SQL chosen by the source database's superusers and loads the server
 * for as long as a restore takes, which belongs on a server made for it, not next to production.
 */
export function checkDrillServer(
  server: PgConnection,
  targets: readonly { name: string; connection: PgConnection }[],
  allow: boolean,
): void {
  if (allow) return;
  const owners = targets
    .filter((t) => t.connection.port === server.port && sameHost(t.connection.host, server.host))
    .map((t) => t.name);
  if (owners.length === 0) return;
  throw new BackupError(
    'DRILL_SERVER_REFUSED',
    `the drill server ${server.host}:${server.port} is the server of target ${owners.join(', ')}: ` +
      'expected a separate server for drills (BACKUP_DRILL_DATABASE_URL or the target’s drill), ' +
      'or BACKUP_DRILL_ALLOW_TARGET_SERVER=yes to drill there anyway',
  );
}

/** `host:port`, what a drill record and a log show of the server (never a user or password). */
export function drillServerLabel(server: PgConnection): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/**
 * The drill server's `wal_level`, recorded with each drill because it weighs on the RTO: at
 * `minimal` (a server kept for drills, nothing replicating from it), `pg_restore --jobs` loads each
 * table in the transaction that truncates it, and index builds too go unwritten to WAL; a restore
 * into a server with replicas (`replica`, `logical`) writes all of it, WAL flushes and full-page
 * images included, which can make it longer than the drill's RTO says (not measured here: the
 * test harness's server runs without fsync and full-page writes, docs/benchmarks-restore.md).
 * Undefined when it cannot be read: the restore then fails with its own code, and this says
 * nothing more.
 */
export async function drillServerWalLevel(server: PgConnection): Promise<string | undefined> {
  try {
    const client = await connect(server);
    try {
      const { rows } = await client.query<{ wal_level: string }>('SHOW wal_level');
      return rows[0]?.wal_level;
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch {
    return undefined;
  }
}
