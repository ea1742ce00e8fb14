import { BackupError } from '../errors.js';
import type { PgConnection } from '../postgres/connection.js';
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
