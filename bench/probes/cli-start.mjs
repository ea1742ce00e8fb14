// How long backupctl takes to start (issue 13: `--help` and `backups` under 300 ms), next to
// `node -e 0`, so a busy machine's slowness shows in the baseline too. Medians of 9 runs each:
// wall clock, and the child's CPU (user + system, from this process's cutime/cstime in
// /proc/self/stat, 10 ms ticks), which a busy machine inflates far less than the wall clock.
// `backups` lists an empty directory: no Redis, no PostgreSQL connection.
// Run (after the build): pnpm --filter @pgbackup/bench run probe:cli-start
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const runs = 9;
const ticksPerSecond = 100;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const backupctl = path.join(repo, 'apps/backupctl/bin/backupctl.js');

const cases = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  { name: 'backupctl --help', args: [backupctl, '--help'] },
  { name: 'backupctl backups', args: [backupctl, 'backups'] },
];

/** CPU of the children this process has waited for, in ms (fields 16 and 17 of /proc/self/stat). */
function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / ticksPerSecond;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const backupDir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-cli-start-'));
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  BACKUP_DIR: backupDir,
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/postgres',
};
const rows = [];
try {
  for (const { name, args } of cases) {
    const wall = [];
    const cpu = [];
    for (let i = 0; i < runs; i++) {
      const cpuBefore = childrenCpuMs();
      const startedAt = performance.now();
      const result = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
      wall.push(performance.now() - startedAt);
      cpu.push(childrenCpuMs() - cpuBefore);
      if (result.status !== 0) throw new Error(`${name} exited ${result.status}: ${result.stderr}`);
    }
    rows.push({ command: name, 'median wall ms': Math.round(median(wall)), 'median CPU ms': median(cpu) });
  }
} finally {
  rmSync(backupDir, { recursive: true, force: true });
}
console.table(rows);
console.log(
  `load average: ${os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')} (${os.cpus().length} cores)`,
);
