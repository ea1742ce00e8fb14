import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { PgTls } from '../config/types.js';
import { BackupError } from '../errors.js';

/**
 * TLS failures in the words of node-pg / Node (`self-signed certificate in certificate chain`,
 * `unable to verify the first certificate`, `Hostname/IP does not match certificate's altnames`,
 * `The server does not support SSL connections`) and of libpq on pg_dump's stderr
 * (`certificate verify failed`, `server certificate for "x" does not match host name "y"`,
 * `server does not support SSL, but SSL was required`, `root certificate file "..." does not
 * exist`, a refused client certificate's `tlsv1 alert ...`). Network failures during a handshake
 * (`SSL SYSCALL error: EOF detected`) are left out on purpose: they stay PG_UNREACHABLE and are retried.
 */
export const tlsErrorPattern =
  /certificate verify failed|self[- ]signed certificate|unable to verify|unable to get (local )?issuer certificate|certificate has expired|certificate is not yet valid|Hostname\/IP does not match|does not match host name|server does not support SSL|There was an error establishing an SSL connection|root certificate file .* does not exist|could not (read|load) (root certificate|certificate|private key)|private key file .* (has group or world access|does not exist)|certificate present, but not private key|(tlsv1|sslv3) alert|certificate required/i;

function read(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new BackupError(
      'PG_TLS_FAILED',
      `could not read ${setting} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { cause: error },
    );
  }
}

/**
 * node-pg's `ssl` for an attempt with TLS, with libpq's meanings: verify-full checks chain and
 * host name; verify-ca the chain only; require, prefer and allow check nothing, unless an
 * sslrootcert is given, when they check the chain like verify-ca (libpq does the same).
 */
export function tlsOptions(tls: PgTls | undefined): ConnectionOptions {
  const mode = tls?.mode ?? 'prefer';
  const options: ConnectionOptions = {
    rejectUnauthorized: mode === 'verify-ca' || mode === 'verify-full' || tls?.rootCert !== undefined,
  };
  // Given a CA, Node trusts it alone, not its bundled list: the same trust as libpq's.
  if (tls?.rootCert !== undefined) options.ca = read(tls.rootCert, 'sslrootcert');
  if (tls?.cert !== undefined) options.cert = read(tls.cert, 'sslcert');
  if (tls?.key !== undefined) options.key = read(tls.key, 'sslkey');
  if (mode !== 'verify-full') options.checkServerIdentity = () => undefined;
  return options;
}

/**
 * Servers that answered prefer's SSLRequest with 'N', and when. libpq carries on in plain text on
 * the same connection; node-pg cannot, so each such connection cost a second one (a second
 * backend start: about 30 ms, a tenth of a small database's dump; issue 18). For a while after a
 * refusal, prefer goes straight to plain text with that server: prefer promises no encryption
 * (anyone on the path can answer 'N'), and a server that turns TLS on is used with it again once
 * the memory expires.
 */
const refusedTls = new Map<string, number>();
const REFUSAL_REMEMBERED_MS = 5 * 60_000;

/** What node-pg reports when the server answers the SSLRequest with 'N'. */
const serverRefusedTls = 'The server does not support SSL connections';

/** pg_hba.conf turned a plain connection away for want of encryption (`hostssl` lines only). */
function wantsEncryption(error: unknown): boolean {
  const err = error as { code?: string; message?: string };
  return err?.code === '28000' && /no encryption/i.test(err.message ?? '');
}

/**
 * Connects the way libpq's sslmode says. node-pg has no prefer/allow fallback of its own, and
 * libpq's prefer falls back to plain on ANY TLS failure; ours falls back only when the server
 * refuses TLS outright, never on a certificate error, so a wrong CA is an error, not a silent
 * downgrade. allow tries plain first and uses TLS only when pg_hba.conf demands it.
 */
export async function connectWithTls<C>(
  tls: PgTls | undefined,
  open: (ssl: false | ConnectionOptions) => Promise<C>,
  /** host:port, for prefer's memory of servers that refuse TLS. */
  server?: string,
): Promise<C> {
  const mode = tls?.mode ?? 'prefer';
  if (mode === 'disable') return open(false);
  if (mode === 'allow') {
    try {
      return await open(false);
    } catch (error) {
      if (!wantsEncryption(error)) throw error;
      return open(tlsOptions(tls));
    }
  }
  if (mode === 'prefer') {
    const refusedAt = server === undefined ? undefined : refusedTls.get(server);
    if (refusedAt !== undefined && Date.now() - refusedAt < REFUSAL_REMEMBERED_MS) return open(false);
    try {
      return await open(tlsOptions(tls));
    } catch (error) {
      if ((error as Error)?.message !== serverRefusedTls) throw error;
      if (server !== undefined) refusedTls.set(server, Date.now());
      return open(false);
    }
  }
  return open(tlsOptions(tls));
}
