import type pg from 'pg';
import type { PgConnection } from '../config/types.js';
import { BackupError, type BackupErrorCode } from '../errors.js';
import { connectWithTls, tlsErrorPattern } from './tls.js';

// One definition, the configuration's: the password travels only in memory and child environments.
export type { PgConnection } from '../config/types.js';

/**
 * The environment for pg_dump, pg_restore and psql: libpq reads the password from PGPASSWORD, so
 * it never appears in a process argument list (visible to every user through `ps`).
 */
export function libpqEnvironment(
  connection: PgConnection,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    // Inherited libpq settings would silently redirect the child to another server.
    if (!key.startsWith('PG') && !key.startsWith('POSTGRES_') && key !== 'DATABASE_URL') env[key] = value;
  }
  env.PGHOST = connection.host;
  env.PGPORT = String(connection.port);
  env.PGUSER = connection.user;
  env.PGDATABASE = connection.database;
  env.PGAPPNAME = 'pgbackup';
  env.PGCONNECT_TIMEOUT = '15';
  if (connection.password !== undefined) env.PGPASSWORD = connection.password;
  // In the environment like the password, never as arguments: the same settings node-pg uses.
  env.PGSSLMODE = connection.tls?.mode ?? 'prefer';
  if (connection.tls?.rootCert !== undefined) env.PGSSLROOTCERT = connection.tls.rootCert;
  if (connection.tls?.cert !== undefined) env.PGSSLCERT = connection.tls.cert;
  if (connection.tls?.key !== undefined) env.PGSSLKEY = connection.tls.key;
  return env;
}

/**
 * Arguments and environment that make pg_restore restore into `connection`'s database. pg_restore
 * needs -d to restore into a database at all, but libpq reads a -d value holding `=` or starting
 * with postgres:// as connection settings. An empty -d is skipped by libpq, which then takes the
 * name from PGDATABASE, and libpq never parses PGDATABASE: the name can only ever be a name.
 */
export function pgRestoreInto(connection: PgConnection): { args: string[]; env: NodeJS.ProcessEnv } {
  return { args: ['--dbname', ''], env: libpqEnvironment(connection) };
}

export function withDatabase(connection: PgConnection, database: string): PgConnection {
  return { ...connection, database };
}

/** Classifies libpq/pg error text: retrying cannot fix a wrong password or a missing database. */
export function classifyPostgresError(text: string): BackupErrorCode | undefined {
  // First: libpq wraps TLS failures in "connection to server ... failed", which reads as unreachable.
  if (tlsErrorPattern.test(text)) return 'PG_TLS_FAILED';
  if (
    /password authentication failed|no password supplied|authentication failed|no pg_hba\.conf entry|pg_hba\.conf rejects connection/i.test(
      text,
    )
  ) {
    return 'PG_AUTH_FAILED';
  }
  if (/database ".*" does not exist/i.test(text)) return 'PG_DATABASE_MISSING';
  if (/server version mismatch|aborting because of server version mismatch/i.test(text))
    return 'PG_DUMP_TOO_OLD';
  if (
    /could not connect|connection refused|could not translate host name|timeout expired|the database system is (starting up|shutting down|in recovery)|terminating connection|server closed the connection|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|Connection terminated/i.test(
      text,
    )
  ) {
    return 'PG_UNREACHABLE';
  }
  return undefined;
}

/** Node's codes for certificate verification failures (OpenSSL's, plus the host name check's). */
const tlsErrorCodes = new Map<string, BackupErrorCode>(
  [
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'UNABLE_TO_GET_ISSUER_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'CERT_HAS_EXPIRED',
    'CERT_NOT_YET_VALID',
    'CERT_SIGNATURE_FAILURE',
    'CERT_UNTRUSTED',
    'CERT_REJECTED',
    'INVALID_CA',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ].map((code) => [code, 'PG_TLS_FAILED']),
);

const pgCodeMap: Record<string, BackupErrorCode> = {
  '28P01': 'PG_AUTH_FAILED',
  '28000': 'PG_AUTH_FAILED',
  '3D000': 'PG_DATABASE_MISSING',
  '57P01': 'PG_UNREACHABLE',
  '57P02': 'PG_UNREACHABLE',
  '57P03': 'PG_UNREACHABLE',
};

/** Turns a node-postgres error into a BackupError with the right code. */
export function postgresError(
  error: unknown,
  what: string,
  fallback: BackupErrorCode = 'PG_UNREACHABLE',
): BackupError {
  if (error instanceof BackupError) return error;
  const err = error as { code?: string; message?: string };
  const message = err?.message ?? String(error);
  const code =
    (err?.code && (pgCodeMap[err.code] ?? tlsErrorCodes.get(err.code))) ||
    classifyPostgresError(message) ||
    fallback;
  return new BackupError(code, `${what}: ${message}`, { cause: error });
}

/** A connected client; connection errors come back classified. */
export async function connect(connection: PgConnection): Promise<pg.Client> {
  // Loaded on first connection: backupctl's commands that read only the manifests never pay for it.
  const { default: driver } = await import('pg');
  const open = async (ssl: pg.ClientConfig['ssl']): Promise<pg.Client> => {
    const client = new driver.Client({
      host: connection.host,
      port: connection.port,
      user: connection.user,
      database: connection.database,
      connectionTimeoutMillis: 15_000,
      application_name: 'pgbackup',
      // Always explicit: left undefined, node-pg would read PGSSLMODE from this process's environment.
      ssl,
      ...(connection.password === undefined ? {} : { password: connection.password }),
    });
    // A server that goes away later emits 'error' on an idle client; callers see it on their next query.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  };
  try {
    return await connectWithTls(connection.tls, open, `${connection.host}:${connection.port}`);
  } catch (error) {
    throw postgresError(
      error,
      `could not connect to ${connection.user}@${connection.host}:${connection.port}/${connection.database}`,
    );
  }
}
