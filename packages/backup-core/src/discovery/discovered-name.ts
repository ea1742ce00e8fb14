import { createHash } from 'node:crypto';

/**
 * The longest server target name that discovers databases: leaves at least 15 characters of the
 * database name, with the hash, inside the 63 a target name may have.
 */
export const maxServerNameLength = 40;

/** Characters a target name may hold (config/target-name.ts); anything else is replaced by `_`. */
const unsafe = /[^A-Za-z0-9_.-]/gu;
const maxLength = 63;
const hashLength = 6;
/** `<server>.globals` holds the server's roles and tablespaces: a database named so gets the hashed form. */
const reserved = new Set(['globals']);

/**
 * The target name of database `database` discovered on server target `server`:
 * `<server>.<database>`. Target names go into paths, job ids and backup ids, so characters they
 * cannot hold are replaced by `_`; then two databases could end up with one name ("a b" and
 * "a_b"), so a changed or shortened name carries `-` and the first 6 hex digits of the SHA-256 of
 * the real name. A name that needed no change keeps its plain form. The manifest keeps the real
 * database name.
 */
export function discoveredTargetName(server: string, database: string): string {
  const plain = `${server}.${database}`;
  if (plain.length <= maxLength && !/[^A-Za-z0-9_.-]/u.test(database) && !reserved.has(database))
    return plain;
  const hash = createHash('sha256').update(database, 'utf8').digest('hex').slice(0, hashLength);
  // With the `u` flag a character outside the BMP is one match, so it becomes one `_`.
  const safe = database.replace(unsafe, '_');
  const room = Math.max(0, maxLength - server.length - 2 - hashLength);
  const kept = [...safe].slice(0, room).join('');
  return `${server}.${kept}-${hash}`;
}
