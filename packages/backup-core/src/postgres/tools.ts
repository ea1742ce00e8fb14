import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BackupError } from '../errors.js';

const execFileAsync = promisify(execFile);

export type PgTool = 'pg_dump' | 'pg_restore' | 'psql' | 'pg_dumpall';

export interface ToolInfo {
  path: string;
  /** e.g. "15.19" */
  version: string;
  major: number;
}

/** Whether `file` exists and this process may run it. */
export function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every copy of the tool on this machine: PATH first, then Debian's per-major directories, newest first. */
function candidates(tool: PgTool): string[] {
  const found: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, tool);
    if (executable(file)) found.push(file);
  }
  try {
    const majors = readdirSync('/usr/lib/postgresql')
      .filter((entry) => /^\d+$/.test(entry))
      .sort((a, b) => Number(b) - Number(a));
    for (const major of majors) {
      const file = `/usr/lib/postgresql/${major}/bin/${tool}`;
      if (executable(file)) found.push(file);
    }
  } catch {
    // not a Debian layout
  }
  return [...new Set(found)];
}

// Per process: a probe is a process start (Debian's pg_wrapper is a Perl script), paid once. The
// promise is kept, so jobs that start while a probe runs wait for it rather than probe again.
const versionCache = new Map<string, Promise<ToolInfo>>();

function toolVersion(file: string): Promise<ToolInfo> {
  let probe = versionCache.get(file);
  if (!probe) {
    probe = probeVersion(file);
    versionCache.set(file, probe);
    // A failed probe (a tool being installed, say) is tried again next time.
    probe.catch(() => versionCache.delete(file));
  }
  return probe;
}

async function probeVersion(file: string): Promise<ToolInfo> {
  // Debian's pg_wrapper picks a version per cluster; asking it for --version is still exact.
  const { stdout } = await execFileAsync(file, ['--version'], { timeout: 10_000 });
  const match = /(\d+)(?:\.(\d+))?/.exec(stdout);
  if (!match)
    throw new BackupError('TOOL_MISSING', `could not read the version of ${file}: ${stdout.trim()}`);
  return {
    path: file,
    version: match[2] ? `${match[1]}.${match[2]}` : match[1]!,
    major: Number(match[1]),
  };
}

/**
 * The tool to use against a server of `serverMajor`: pg_dump refuses (or worse, misreads) a
 * newer server, so the first copy at least as new as the server wins; none is an error that
 * names the client package to install.
 */
export async function findPgTool(tool: PgTool, serverMajor: number): Promise<ToolInfo> {
  const files = candidates(tool);
  if (files.length === 0) {
    throw new BackupError(
      'TOOL_MISSING',
      `${tool} was not found on PATH nor in /usr/lib/postgresql/*/bin: install postgresql-client-${serverMajor}`,
    );
  }
  const infos = await Promise.all(files.map((file) => toolVersion(file).catch(() => undefined)));
  const usable = infos.filter((info): info is ToolInfo => info !== undefined);
  const fit = usable.find((info) => info.major >= serverMajor);
  if (fit) return fit;
  const newest = usable.sort((a, b) => b.major - a.major)[0];
  throw new BackupError(
    'PG_DUMP_TOO_OLD',
    `${tool} ${newest?.version ?? '(unknown)'} is older than the server (PostgreSQL ${serverMajor}); ` +
      `a dump needs ${tool} ${serverMajor} or newer: install postgresql-client-${serverMajor} (or set PG_MAJOR in the image)`,
  );
}
