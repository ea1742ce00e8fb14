import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { fail, ok, type Parsed } from './parsed.js';
import { sslModes } from './schema.js';
import type { PgTls } from './types.js';

export type TlsField = keyof PgTls;
/** What one place (a URL, the PGSSL* variables, a file target's keys) gave; not yet checked as a whole. */
export type TlsParts = Partial<PgTls>;

/** Each setting's name in a URL query, in the environment and in a config file target. */
export const tlsNames = {
  mode: { query: 'sslmode', env: 'PGSSLMODE', file: 'sslMode' },
  rootCert: { query: 'sslrootcert', env: 'PGSSLROOTCERT', file: 'sslRootCert' },
  cert: { query: 'sslcert', env: 'PGSSLCERT', file: 'sslCert' },
  key: { query: 'sslkey', env: 'PGSSLKEY', file: 'sslKey' },
} as const satisfies Record<TlsField, { query: string; env: string; file: string }>;

export const tlsFields = Object.keys(tlsNames) as TlsField[];

export const tlsExpected: Record<TlsField, string> = {
  mode: `one of ${sslModes.join(', ')}`,
  rootCert: 'a readable file of CA certificates (PEM), for example /etc/pgbackup/root.crt',
  cert: 'a readable client certificate file (PEM), for example /etc/pgbackup/client.crt',
  key: 'a client key file (PEM) readable by this user only (chmod 600), for example /etc/pgbackup/client.key',
};

/**
 * One setting's value. Files are checked now rather than at the first connection: a typo in a
 * path would otherwise surface at 2 a.m. as a failed dump. A key that group or others can read
 * is refused because libpq refuses it too, and node-pg and libpq must accept the same settings.
 */
export function tlsValue(field: TlsField, text: string, base: string): Parsed<string> {
  if (field === 'mode') {
    const mode = sslModes.find((candidate) => candidate === text.toLowerCase());
    return mode === undefined ? fail('is not one of the accepted values') : ok(mode);
  }
  const file = path.resolve(base, text);
  try {
    if (!statSync(file).isFile()) return fail('is not a file');
    accessSync(file, constants.R_OK);
  } catch (error) {
    return fail(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
  if (field === 'key') {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0)
      return fail(`can be read by group or others (mode ${mode.toString(8).padStart(4, '0')})`);
  }
  return ok(file);
}

/**
 * The settings as a whole, or undefined when none was given (libpq's default, prefer). A
 * verify-* mode without sslrootcert is refused: libpq would look for ~/.postgresql/root.crt
 * and node-pg would trust Node's bundled CAs, so the two connections would trust different
 * authorities.
 */
export function completeTls(parts: TlsParts): Parsed<PgTls | undefined> {
  if (tlsFields.every((field) => parts[field] === undefined)) return ok(undefined);
  const mode = parts.mode ?? 'prefer';
  if ((mode === 'verify-ca' || mode === 'verify-full') && parts.rootCert === undefined) {
    return fail(`has sslmode ${mode} without sslrootcert`, {
      expected: 'sslrootcert naming the CA certificates that signed the server certificate',
    });
  }
  if ((parts.cert === undefined) !== (parts.key === undefined)) {
    return fail(`has ${parts.cert === undefined ? 'sslkey without sslcert' : 'sslcert without sslkey'}`, {
      expected: 'both sslcert and sslkey, or neither',
    });
  }
  return ok({ ...parts, mode });
}
