#!/usr/bin/env node
// Starts the worker and the dashboard together on local defaults, forwards SIGINT/SIGTERM to
// both and exits when either stops (a half-running system is worse than a stopped one).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const hasTarget = [
  'DATABASE_URL',
  'BACKUP_CONFIG',
  'PGDATABASE',
  'POSTGRES_DB',
  'PGHOST',
  'POSTGRES_HOST',
].some((name) => env[name]);
if (!hasTarget) {
  // Local defaults: the machine's own PostgreSQL `postgres` database.
  env.DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
  console.error('start: no target configured, backing up the local default %s', env.DATABASE_URL);
}

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
