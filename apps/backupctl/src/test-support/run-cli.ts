import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI: tests run it as operators do, as a process (build first, see README). */
export const cliEntry = path.join(packageDir, 'dist/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<CliResult>;
}

function assertBuilt(): void {
  if (!existsSync(cliEntry)) {
    throw new Error(
      'apps/backupctl/dist/main.js is missing: build first (cd apps/backupctl && ../../node_modules/.bin/tsc -p tsconfig.build.json)',
    );
  }
}

/** Starts `backupctl args...` with exactly `env` (plus PATH and HOME); stdout and stderr are pipes, not a terminal. */
export function spawnCli(env: Record<string, string>, args: string[], timeoutMs = 120_000): CliProcess {
  assertBuilt();
  const child = spawn(process.execPath, [cliEntry, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `backupctl ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

export function runCli(env: Record<string, string>, args: string[], timeoutMs?: number): Promise<CliResult> {
  return spawnCli(env, args, timeoutMs).done;
}

/** Parses stdout as the one JSON document `--json` promises; the error shows both streams. */
export function jsonOf<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${result.code})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
}
