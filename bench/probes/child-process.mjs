// Why backup-core spawns its children with node:child_process and not execa (docs/architecture.md):
// the import cost and the cost of one spawn of /bin/true, 200 times, for each.
// Run: pnpm --filter @pgbackup/bench run probe:child-process
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const runs = 200;

async function measure(which) {
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  let run;
  if (which === 'execa 9') {
    const { execa } = await import('execa');
    run = () => execa('/bin/true', [], { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
  } else {
    run = () =>
      new Promise((resolve, reject) => {
        const child = spawn('/bin/true', [], { stdio: ['ignore', 'ignore', 'pipe'] });
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
      });
  }
  const importCpu = process.cpuUsage(cpuAtStart);
  const importMs = performance.now() - startedAt;
  const cpuBeforeRuns = process.cpuUsage();
  const runsStartedAt = performance.now();
  for (let i = 0; i < runs; i++) await run();
  const runsCpu = process.cpuUsage(cpuBeforeRuns);
  const ms = (cpu) => (cpu.user + cpu.system) / 1000;
  return {
    module: which,
    'import wall ms': Math.round(importMs),
    'import CPU ms': Math.round(ms(importCpu)),
    'per spawn wall ms': +((performance.now() - runsStartedAt) / runs).toFixed(2),
    'per spawn CPU ms (this process)': +(ms(runsCpu) / runs).toFixed(2),
  };
}

// Each in a fresh process would be fairer for the import; one after the other keeps it one command:
// node:child_process first, so execa's import is not already paid.
console.table([await measure('node:child_process'), await measure('execa 9')]);
