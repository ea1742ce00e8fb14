import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BackupError } from '../errors.js';
import { startChild } from '../process/child.js';
import type { PgConnection } from './connection.js';
import { executable } from './tools.js';

/** The server binaries a scratch cluster needs. */
export type ServerBinary = 'initdb' | 'pg_ctl';

export interface ScratchCluster {
  /** Superuser connection to its `postgres` database, over 127.0.0.1. */
  connection: PgConnection;
  /** Its directory; tablespace locations for a replay go under it. */
  dir: string;
  /** The user and group the server runs as (when this process is root), for directories it must own. */
  identity: { uid: number; gid: number } | undefined;
  major: number;
  /** Stops the server (immediate) and removes its directory; safe to call twice. */
  remove(): Promise<void>;
}

/**
 * The newest server installation on this machine holding every binary: Debian keeps them in
 * /usr/lib/postgresql/<major>/bin, off the PATH. None is TOOL_MISSING naming the binary, never a
 * quiet fallback to a weaker check.
 */
export function findServerBinaries(root = '/usr/lib/postgresql'): { dir: string; major: number } {
  let majors: string[] = [];
  try {
    majors = readdirSync(root)
      .filter((entry) => /^\d+$/.test(entry))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    // not a Debian layout
  }
  const wanted: ServerBinary[] = ['initdb', 'pg_ctl'];
  for (const major of majors) {
    const dir = path.join(root, major, 'bin');
    if (wanted.every((binary) => executable(path.join(dir, binary)))) return { dir, major: Number(major) };
  }
  const missing = wanted.find(
    (binary) => !majors.some((major) => executable(path.join(root, major, 'bin', binary))),
  );
  throw new BackupError(
    'TOOL_MISSING',
    `${missing ?? 'initdb'} was not found in ${root}/<major>/bin: replaying a globals backup needs a throwaway PostgreSQL cluster (initdb, pg_ctl); install the server package (apt-get install postgresql)`,
    { details: { binary: missing ?? 'initdb' } },
  );
}

/** PostgreSQL refuses to run as root: as root, the server runs as `postgres` (Debian's), or `nobody`. */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const wanted of ['postgres', 'nobody']) {
    const fields = passwd.find((line) => line.startsWith(`${wanted}:`))?.split(':');
    if (fields?.[2] && fields[3]) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new BackupError(
    'TOOL_MISSING',
    'running as root, and neither a postgres nor a nobody user exists to run a throwaway PostgreSQL cluster',
  );
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A throwaway PostgreSQL cluster: initdb into a temporary directory (trust authentication, no
 * fsync), started with pg_ctl on a free 127.0.0.1 port (no Unix socket). Its
 * bootstrap superuser has a random name, so that replaying a cluster's roles (its `postgres`
 * included) never collides with it. The caller removes it in a `finally`.
 */
export async function startScratchCluster(signal?: AbortSignal): Promise<ScratchCluster> {
  const binaries = findServerBinaries();
  const identity = serverIdentity();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-scratch-cluster-'));
  const dataDir = path.join(dir, 'data');
  const superuser = `pgbackup_scratch_${randomBytes(4).toString('hex')}`;
  const asServer = identity ? { uid: identity.uid, gid: identity.gid } : {};
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  let started = false;
  const remove = async () => {
    if (started) {
      started = false;
      const stop = startChild(
        'pg_ctl stop',
        path.join(binaries.dir, 'pg_ctl'),
        ['-D', dataDir, '-m', 'immediate', '-w', 'stop'],
        {
          env,
          stdio: ['ignore', 'ignore', 'pipe'],
          failureCode: 'SCRATCH_SERVER_FAILED',
          ...asServer,
        },
      );
      await stop.finished.catch(async () => {
        // pg_ctl could not stop it: the postmaster's pid is the first line of postmaster.pid.
        const pid = Number(
          (await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0],
        );
        if (pid > 0) process.kill(pid, 'SIGKILL');
      });
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    if (identity) await fs.chown(dir, identity.uid, identity.gid);
    signal?.throwIfAborted();
    await startChild(
      'initdb',
      path.join(binaries.dir, 'initdb'),
      ['-D', dataDir, '-U', superuser, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync'],
      { env, stdio: ['ignore', 'ignore', 'pipe'], failureCode: 'SCRATCH_SERVER_FAILED', ...asServer },
    ).finished;
    signal?.throwIfAborted();
    const port = await freeLoopbackPort();
    // TCP on loopback only, no Unix socket: a socket path is limited to about 100 bytes (a long
    // TMPDIR), and pg_ctl hands -o to a shell. pg_ctl -w waits on postmaster.pid, not a connection.
    started = true;
    await startChild(
      'pg_ctl start',
      path.join(binaries.dir, 'pg_ctl'),
      [
        '-D',
        dataDir,
        '-l',
        path.join(dir, 'server.log'),
        '-w',
        '-t',
        '120',
        '-o',
        `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c full_page_writes=off`,
        'start',
      ],
      { env, stdio: ['ignore', 'ignore', 'pipe'], failureCode: 'SCRATCH_SERVER_FAILED', ...asServer },
    ).finished.catch(async (error: unknown) => {
      const log = await fs.readFile(path.join(dir, 'server.log'), 'utf8').catch(() => '');
      throw new BackupError(
        'SCRATCH_SERVER_FAILED',
        `the throwaway cluster did not start: ${(error as Error).message}; server log: ${log.slice(-1500)}`,
        { cause: error },
      );
    });
    return {
      connection: { host: '127.0.0.1', port, user: superuser, database: 'postgres' },
      dir,
      identity,
      major: binaries.major,
      remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}
