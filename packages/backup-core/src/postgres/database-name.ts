import { BackupError } from '../errors.js';

/**
 * The one rule for a database name a restore may write to: a plain SQL identifier. libpq reads a
 * "database name" holding `=` or starting with postgres:// or postgresql:// as connection
 * settings (host, port, ...), so a name that reaches a libpq tool could send the password and
 * the decrypted backup to another server. Names are also passed only through PGDATABASE (which
 * libpq takes literally), but the rule is kept narrow on purpose: spaces, quotes, backslashes and
 * non-ASCII letters buy nothing for a restore destination and each has broken a tool somewhere.
 */
export const databaseNamePattern = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** What the rule is, in the words every refusal uses. */
export const databaseNameRule =
  'a plain database name: letters, digits, _ and $, starting with a letter or _, at most 63 bytes';

/**
 * Databases a restore never writes to: the templates every CREATE DATABASE copies, and the
 * maintenance database the restore itself is connected to while it renames and drops.
 */
export const reservedDatabaseNames: ReadonlySet<string> = new Set(['template0', 'template1', 'postgres']);

export function isPlainDatabaseName(name: string): boolean {
  return databaseNamePattern.test(name);
}

/** Throws RESTORE_DATABASE_INVALID unless `name` is a plain identifier and not a reserved database. */
export function checkRestoreDatabaseName(name: string, maintenanceDatabase = 'postgres'): void {
  if (!isPlainDatabaseName(name)) {
    throw new BackupError(
      'RESTORE_DATABASE_INVALID',
      `restore database ${JSON.stringify(name)} is not ${databaseNameRule}`,
    );
  }
  if (reservedDatabaseNames.has(name) || name === maintenanceDatabase) {
    throw new BackupError(
      'RESTORE_DATABASE_INVALID',
      `restore database ${name} is refused: template0, template1 and the maintenance database (${maintenanceDatabase}) are never restored into; restore into another name`,
    );
  }
}
