import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited } from '@pgbackup/testkit';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const entry = path.join(packageDir, 'dist/main.js');

/** Tests that kill a worker need it as a real process: the built one (turbo builds before `test`). */
function assertBuilt(): void {
  if (!existsSync(entry)) {
    throw new Error('apps/worker/dist/main.js is missing: run `pnpm build` (turbo builds before `test`)');
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Process ids of every descendant (pg_dump, zstd, ...) right now. */
  descendants(): number[];
  exited: Promise<void>;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  assertBuilt();
  let output = '';
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return {
    child,
    output: () => output,
    descendants: () => descendantsOf(child.pid!),
    exited: exited(child),
  };
}

export function descendantsOf(pid: number): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of ps.stdout.trim().split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number) as [number, number];
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
