import { accessSync, constants, readdirSync } from 'node:fs';
import path from 'node:path';
import { HarnessError } from './errors.js';

/** Debian package that provides each binary the harness and the service run. */
const debianPackageOf: Record<string, string> = {
  initdb: 'postgresql',
  postgres: 'postgresql',
  pg_ctl: 'postgresql',
  pg_dump: 'postgresql-client',
  pg_restore: 'postgresql-client',
  psql: 'postgresql-client',
  'redis-server': 'redis-server',
  zstd: 'zstd',
};

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Debian keeps the server binaries in /usr/lib/postgresql/<major>/bin, off the PATH. */
function postgresBinDirs(): string[] {
  try {
    return readdirSync('/usr/lib/postgresql')
      .filter((entry) => /^\d+$/.test(entry))
      .sort((a, b) => Number(b) - Number(a))
      .map((major) => `/usr/lib/postgresql/${major}/bin`);
  } catch {
    return [];
  }
}

const found = new Map<string, string>();

/** Absolute path of a binary, from PATH or PostgreSQL's own bin directory; fails naming the package. */
export function findBinary(name: string): string {
  const cached = found.get(name);
  if (cached) return cached;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...postgresBinDirs()];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) {
      found.set(name, candidate);
      return candidate;
    }
  }
  const pkg = debianPackageOf[name] ?? 'the package that provides it';
  throw new HarnessError(
    `The test harness needs '${name}', which is not on PATH nor in /usr/lib/postgresql/*/bin. ` +
      `Install it with: apt-get install -y ${pkg}`,
  );
}
