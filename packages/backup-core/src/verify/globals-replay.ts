import fs from 'node:fs/promises';
import path from 'node:path';
import { BackupError } from '../errors.js';
import { type GlobalsStatement, unquoteIdent } from '../globals/globals-sql.js';
import { connect, libpqEnvironment } from '../postgres/connection.js';
import { startScratchCluster } from '../postgres/scratch-cluster.js';
import { findPgTool } from '../postgres/tools.js';
import { finishedOrTerminated, startChild } from '../process/child.js';

const ident = `("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const membershipPattern = new RegExp(`^GRANT ${ident} TO ${ident}`, 's');
const locationPattern = /LOCATION '(?:[^']|'')*'/;

/**
 * The `restore` level of a globals backup: the whole SQL replayed with `psql -v ON_ERROR_STOP=1`
 * into a throwaway cluster (initdb'd for this check, on a free loopback port, removed whatever
 * happens), then every role and every membership the backup names must exist there.
 *
 * Tablespaces: their directories belong to the source's machine. Each CREATE TABLESPACE is
 * replayed with its LOCATION moved to an empty directory inside the throwaway cluster's own, so
 * the statement (owner, options, grants) is still checked; a note per tablespace says so.
 * Returns those notes.
 */
export async function replayGlobalsInScratchCluster(
  sql: string,
  statements: readonly GlobalsStatement[],
  backupId: string,
  sourceMajor: number,
  signal?: AbortSignal,
): Promise<string[]> {
  const cluster = await startScratchCluster(signal);
  try {
    // pg_dumpall's SQL of a newer server may use syntax an older one lacks: not the backup's fault.
    if (cluster.major < sourceMajor) {
      throw new BackupError(
        'TOOL_MISSING',
        `globals backup ${backupId} comes from PostgreSQL ${sourceMajor}, and the newest server installed here is ${cluster.major}: install postgresql-${sourceMajor} to replay it`,
      );
    }
    const notes: string[] = [];
    let tablespaces = 0;
    const replayed: string[] = [];
    for (const line of sql.split('\n')) {
      if (!line.startsWith('CREATE TABLESPACE ') || !locationPattern.test(line)) {
        replayed.push(line);
        continue;
      }
      const location = path.join(cluster.dir, 'tablespaces', String(++tablespaces));
      await fs.mkdir(location, { recursive: true, mode: 0o700 });
      if (cluster.identity) {
        await fs.chown(path.dirname(location), cluster.identity.uid, cluster.identity.gid);
        await fs.chown(location, cluster.identity.uid, cluster.identity.gid);
      }
      const name = new RegExp(`^CREATE TABLESPACE ${ident}`).exec(line)?.[1];
      notes.push(
        `tablespace ${name ? unquoteIdent(name) : '?'} replayed at a scratch location (its directory belongs to the source server: ${locationPattern.exec(line)?.[0]})`,
      );
      replayed.push(line.replace(locationPattern, `LOCATION '${location.replaceAll("'", "''")}'`));
    }
    const sqlFile = path.join(cluster.dir, 'globals.sql');
    await fs.writeFile(sqlFile, replayed.join('\n'), { mode: 0o600 });
    const psql = await findPgTool('psql', cluster.major);
    signal?.throwIfAborted();
    // ON_ERROR_STOP: any statement that fails fails the replay (psql exits 3), with its error.
    const child = startChild(
      'psql (replaying the globals into a throwaway cluster)',
      psql.path,
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', sqlFile],
      {
        env: libpqEnvironment(cluster.connection),
        stdio: ['ignore', 'ignore', 'pipe'],
        failureCode: 'RESTORE_FAILED',
      },
    );
    await finishedOrTerminated(child, signal);
    await checkRolesExist(cluster.connection, statements, backupId);
    return notes;
  } finally {
    await cluster.remove();
  }
}

/** Every role created and every membership granted by the backup, present after the replay. */
async function checkRolesExist(
  connection: Parameters<typeof connect>[0],
  statements: readonly GlobalsStatement[],
  backupId: string,
): Promise<void> {
  const client = await connect(connection);
  try {
    const roles = new Set(
      (await client.query<{ name: string }>('SELECT rolname AS name FROM pg_catalog.pg_roles')).rows.map(
        (row) => row.name,
      ),
    );
    const memberships = new Set(
      (
        await client.query<{ role: string; member: string }>(
          `SELECT r.rolname AS role, m.rolname AS member FROM pg_catalog.pg_auth_members a
             JOIN pg_catalog.pg_roles r ON r.oid = a.roleid JOIN pg_catalog.pg_roles m ON m.oid = a.member`,
        )
      ).rows.map((row) => JSON.stringify([row.role, row.member])),
    );
    const missing: string[] = [];
    for (const statement of statements) {
      if (statement.kind === 'create-role' && statement.name && !roles.has(statement.name))
        missing.push(`role ${JSON.stringify(statement.name)}`);
      const grant = statement.kind === 'grant-membership' ? membershipPattern.exec(statement.sql) : null;
      if (grant) {
        const role = unquoteIdent(grant[1]!);
        const member = unquoteIdent(grant[2]!);
        if (!memberships.has(JSON.stringify([role, member])))
          missing.push(`membership of ${JSON.stringify(member)} in ${JSON.stringify(role)}`);
      }
    }
    if (missing.length > 0) {
      throw new BackupError(
        'ARCHIVE_CONTENT_MISMATCH',
        `after replaying globals backup ${backupId} into a throwaway cluster, ${missing.length} of what it names is missing: ${missing.slice(0, 10).join(', ')}`,
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
