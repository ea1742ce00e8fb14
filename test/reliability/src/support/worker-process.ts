import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited } from '@pgbackup/testkit';
import { descendantsOf } from '@pgbackup/worker/testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
/** The built worker: fault tests kill real processes (turbo builds before `test`). */
export const workerEntry = path.join(repoRoot, 'apps/worker/dist/main.js');

export interface SpawnOptions {
  /** LOG_LEVEL of the process (the fixture's own is silent). Default info. */
  logLevel?: string;
  /**
   * Runs the worker under `bash -c 'ulimit -f <blocks>; exec node ...'` (1024-byte blocks): a
   * file-size limit, the disk-full fault for when tmpfs cannot be mounted.
   */
  fileSizeLimitBlocks?: number;
  /** With a file-size limit: ignore SIGXFSZ in the wrapper (inherited through exec). Default true. */
  ignoreSigxfsz?: boolean;
}

export interface WorkerProcess {
  readonly pid: number;
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  stdout(): string;
  exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function assertBuilt(): void {
  if (!existsSync(workerEntry)) {
    throw new Error(
      'apps/worker/dist/main.js is missing: run `bash scripts/pnpm.sh exec turbo run build` (turbo builds before `test`)',
    );
  }
}

/** Starts `node apps/worker/dist/main.js` with exactly the given environment (plus PATH and HOME). */
export function spawnWorkerProcess(env: Record<string, string>, options: SpawnOptions = {}): WorkerProcess {
  assertBuilt();
  const fullEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ...env,
    LOG_LEVEL: options.logLevel ?? 'info',
  };
  const child =
    options.fileSizeLimitBlocks === undefined
      ? spawn(process.execPath, [workerEntry], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(
          'bash',
          [
            '-c',
            `${options.ignoreSigxfsz === false ? '' : "trap '' XFSZ; "}ulimit -f ${options.fileSizeLimitBlocks}; exec "$0" "$1"`,
            process.execPath,
            workerEntry,
          ],
          { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] },
        );
  return trackProcess(child);
}

/** A started service process (worker, dashboard): its output kept, killed and awaited on demand. */
export function trackProcess(child: ChildProcess): WorkerProcess {
  let stdout = '';
  let all = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
    all += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    all += chunk;
  });
  const done = exited(child);
  return {
    pid: child.pid!,
    child,
    output: () => all,
    stdout: () => stdout,
    exited: done,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await done;
    },
  };
}

// One implementation, shared with the worker's own process tests.
export { descendantsOf };

/** Descendants of `pid` whose program is `name` (from /proc/<pid>/comm), e.g. pg_dump. */
export function descendantsNamed(pid: number, name: string): number[] {
  return descendantsOf(pid).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/comm`, 'utf8').trim() === name;
    } catch {
      return false;
    }
  });
}

/** Running, as opposed to gone or a zombie nobody reaped yet. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
