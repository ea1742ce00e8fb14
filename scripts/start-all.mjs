#!/usr/bin/env node
// Starts the worker and the dashboard together on local defaults, forwards SIGINT/SIGTERM to
// both and exits when either stops (a half-running system is worse than a stopped one).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// No target default here: when nothing is configured, the worker, the dashboard and backupctl all
// apply the same local default (packages/backup-core/src/config/local-default.ts) and say so.
const env = { ...process.env };

const apps = [
  ['worker', path.join(root, 'apps/worker/dist/main.js')],
  ['dashboard', path.join(root, 'apps/dashboard/dist/main.js')],
];
const children = apps.map(([name, entry]) => {
  const child = spawn(process.execPath, [entry], { env, stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    console.error(`start: ${name} exited (${signal ?? code}); stopping the others`);
    for (const other of children) if (other !== child && other.exitCode === null) other.kill('SIGTERM');
    process.exitCode = code ?? 1;
  });
  return child;
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  });
}
