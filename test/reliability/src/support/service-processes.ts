import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliEntry } from '@pgbackup/backupctl/testing';
import { trackProcess, type WorkerProcess } from './worker-process.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
/** The built dashboard and backupctl (turbo builds before `test`). */
export const dashboardEntry = path.join(repoRoot, 'apps/dashboard/dist/main.js');
export const backupctlEntry = cliEntry;

function assertBuilt(entry: string): void {
  if (!existsSync(entry))
    throw new Error(`${entry} is missing: run \`bash scripts/pnpm.sh exec turbo run build\` first`);
}

function baseEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env };
}

/** Starts `node apps/dashboard/dist/main.js` with exactly this environment (plus PATH and HOME). */
export function spawnDashboardProcess(env: Record<string, string>): WorkerProcess {
  assertBuilt(dashboardEntry);
  const child = spawn(process.execPath, [dashboardEntry], {
    env: baseEnv({ LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return trackProcess(child);
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the built `backupctl` once, as an operator would, with exactly this environment. */
export function runBackupctl(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<CliRun> {
  assertBuilt(backupctlEntry);
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [backupctlEntry, ...args],
      { env: baseEnv(env), timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}
