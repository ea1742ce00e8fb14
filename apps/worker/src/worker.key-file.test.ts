import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '@pgbackup/testkit';
import { afterEach, expect, it } from 'vitest';
import { spawnWorker, type WorkerProcess } from './test-support/worker-process.js';

let dir: string | undefined;
let worker: WorkerProcess | undefined;
afterEach(async () => {
  if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
  worker = undefined;
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

/**
 * The key check runs before Redis is contacted, so nothing listens on the ports below: a worker
 * that got past the keys would hang waiting for Redis instead of exiting.
 */
it('the worker exits non-zero, naming the key file, its mode and the fix, when the key file is readable by others', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-key-file-'));
  const keyFile = path.join(dir, 'backup.key');
  const key = randomBytes(32).toString('hex');
  await fs.writeFile(keyFile, `${key}\n`);
  await fs.chmod(keyFile, 0o644);
  worker = spawnWorker({
    DATABASE_URL: 'postgresql://app@127.0.0.1:1/app',
    REDIS_URL: 'redis://127.0.0.1:1',
    BACKUP_DIR: path.join(dir, 'backups'),
    BACKUP_LOG_DIR: path.join(dir, 'logs'),
    BACKUP_HEALTH_PORT: '0',
    BACKUP_ENCRYPTION_KEY_FILE: keyFile,
  });
  const child = worker.child;
  await waitFor('the worker to exit', async () => child.exitCode !== null, 20_000);
  expect(child.exitCode).toBe(1);
  const output = worker.output();
  expect(output).toContain(
    `pgbackup worker: cannot start: ENCRYPTION_KEY_INVALID: The encryption key file ${keyFile} has mode 0644`,
  );
  expect(output).toContain(`chmod 600 ${keyFile}`);
  expect(output).not.toContain(key);
}, 30_000);
