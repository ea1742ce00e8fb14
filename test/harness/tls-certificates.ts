import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HarnessError } from './errors.js';
import type { Identity } from './run-as.js';

/** Throwaway certificates for a test server; every path is absolute. */
export interface TlsFiles {
  /** The CA that signed the server certificate: verify-ca and verify-full succeed with it. */
  ca: string;
  /** A second CA that signed nothing here: verification against it must fail. */
  otherCa: string;
  /**
   * The server certificate. Its subjectAltName is DNS:localhost ONLY (no IP address), so that
   * verify-full against 127.0.0.1 fails on the host name while verify-ca there succeeds.
   */
  serverCert: string;
  /** Mode 0600, owned by the user the cluster runs as: PostgreSQL refuses a key others can read. */
  serverKey: string;
}

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new HarnessError(
      `openssl ${args[0]} failed (exit ${result.status}): ${result.stderr || result.error?.message}`,
    );
  }
}

// P-256 rather than RSA: key generation is instant, which matters on a shared 2-core machine.
const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function createCa(dir: string, name: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      ...newKey,
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=pgbackup test ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return { cert, key };
}

/**
 * Generates, in `dir`, a CA, a server certificate for `localhost` signed by it, and an unrelated
 * second CA. `owner` is who the server runs as (see run-as.ts); undefined keeps the current user.
 */
export function createTlsFiles(dir: string, owner: Identity | undefined): TlsFiles {
  mkdirSync(dir, { recursive: true });
  const ca = createCa(dir, 'ca');
  const other = createCa(dir, 'other-ca');
  const serverKey = path.join(dir, 'server.key');
  const csr = path.join(dir, 'server.csr');
  const serverCert = path.join(dir, 'server.crt');
  openssl(['req', '-new', ...newKey, '-keyout', serverKey, '-out', csr, '-subj', '/CN=localhost'], dir);
  const extensions = path.join(dir, 'server.ext');
  writeFileSync(
    extensions,
    [
      'subjectAltName=DNS:localhost',
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-out',
      serverCert,
      '-days',
      '2',
      '-extfile',
      extensions,
    ],
    dir,
  );
  chmodSync(serverKey, 0o600);
  if (owner) chownSync(serverKey, owner.uid, owner.gid);
  return { ca: ca.cert, otherCa: other.cert, serverCert, serverKey };
}
