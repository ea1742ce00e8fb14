import { readFileSync } from 'node:fs';

export interface Identity {
  uid: number;
  gid: number;
}

/**
 * PostgreSQL refuses to run as root, and CI runs as root: the server then runs as the
 * `postgres` system user (created by Debian's package), or `nobody` when there is none.
 * Returns undefined when not root: the server simply runs as the current user.
 */
export function serverIdentity(): Identity | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const wanted of ['postgres', 'nobody']) {
    const line = passwd.find((entry) => entry.startsWith(`${wanted}:`));
    const fields = line?.split(':');
    if (fields?.[2] && fields[3]) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL');
}
