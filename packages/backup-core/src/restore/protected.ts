import { BackupError } from '../errors.js';
import type { PgConnection } from '../postgres/connection.js';

/** A database a configured target backs up: replacing it needs that target's name typed again. */
export interface ProtectedDatabase {
  /** The target's name: what `confirm` must equal. */
  target: string;
  host: string;
  port: number;
  database: string;
}

const localHosts = new Set(['localhost', '127.0.0.1', '::1']);

/** Whether two host names are the same server (the loopback names all count as one). */
export function sameHost(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || (localHosts.has(x) && localHosts.has(y));
}

/** The databases the given targets back up, for `RestoreOptions.protectedDatabases`. */
export function targetDatabases(
  targets: readonly { name: string; connection: PgConnection }[],
): ProtectedDatabase[] {
  return targets.map((t) => ({
    target: t.name,
    host: t.connection.host,
    port: t.connection.port,
    database: t.connection.database,
  }));
}

/**
 * Throws RESTORE_CONFIRM_REQUIRED when `to` is the database of a protected target and `confirm`
 * does not name one of those targets: like dropdb's "type the name again", a second, deliberate
 * word that a restore job submitted with a wrong database name does not carry.
 */
export function checkConfirmation(
  protectedDatabases: readonly ProtectedDatabase[],
  to: PgConnection,
  confirm: string | undefined,
): void {
  const owners = protectedDatabases
    .filter((p) => p.database === to.database && p.port === to.port && sameHost(p.host, to.host))
    .map((p) => p.target);
  if (owners.length === 0 || (confirm !== undefined && owners.includes(confirm))) return;
  const names = owners.join(', ');
  const given =
    confirm === undefined
      ? 'no --confirm was given'
      : `--confirm ${JSON.stringify(confirm)} does not name it`;
  throw new BackupError(
    'RESTORE_CONFIRM_REQUIRED',
    `database ${to.database} is the database target ${names} backs up and ${given}: ` +
      `to replace it pass --confirm ${owners[0]} (job data: confirm), with --force if it holds data`,
  );
}
