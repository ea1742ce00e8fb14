import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BackupConfig, listBackups, loadConfig } from '@pgbackup/backup-core';
import { createBackupQueue, createRedisConnection } from '@pgbackup/queue';
import { harness, uniquePrefix, useCleanups, waitFor } from '@pgbackup/testkit';
import type { Job, Queue } from 'bullmq';
import { startWorkerService, type WorkerService, type WorkerServiceOptions } from '../service.js';

export interface WorkerFixture {
  dir: string;
  env: Record<string, string>;
  config: BackupConfig;
  queue: Queue;
  services: WorkerService[];
  start(options?: WorkerServiceOptions): Promise<WorkerService>;
  /** Waits until the job reaches a finished state; returns that state. */
  finished(job: Job | string, timeoutMs?: number): Promise<'completed' | 'failed'>;
  verifiedBackups(target?: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

/**
 * A worker configuration for tests: the given database URL(s) as targets, temporary backup and
 * log directories, the harness's Redis under a prefix of its own, short backoff, no /healthz
 * unless asked.
 */
export async function workerFixture(env: Record<string, string>): Promise<WorkerFixture> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-worker-test-'));
  const fullEnv: Record<string, string> = {
    BACKUP_DIR: path.join(dir, 'backups'),
    BACKUP_LOG_DIR: path.join(dir, 'logs'),
    REDIS_URL: harness().redisUrl,
    BACKUP_QUEUE_PREFIX: uniquePrefix(),
    BACKUP_HEALTH_PORT: '0',
    BACKUP_BACKOFF: '300ms',
    BACKUP_ATTEMPTS: '3',
    BACKUP_VERIFY: 'read',
    LOG_LEVEL: 'silent',
    ...env,
  };
  const config = loadConfig({ env: fullEnv, cwd: dir });
  const connection = createRedisConnection(config.redis);
  const queue = createBackupQueue(config, connection);
  const services: WorkerService[] = [];
  return {
    dir,
    env: fullEnv,
    config,
    queue,
    services,
    async start(options = {}) {
      const service = await startWorkerService(config, {
        lockRetryMs: 300,
        staleCheckIntervalMs: 3_600_000,
        ...options,
      });
      services.push(service);
      return service;
    },
    async finished(job, timeoutMs = 60_000) {
      const id = typeof job === 'string' ? job : job.id!;
      let state = '';
      await waitFor(
        `job ${id} to finish`,
        async () => {
          state = await queue.getJobState(id);
          return state === 'completed' || state === 'failed';
        },
        timeoutMs,
      );
      return state as 'completed' | 'failed';
    },
    async verifiedBackups(target) {
      const listing = await listBackups(config.backupDir, target ? { target } : {});
      return listing.entries
        .filter((entry) => entry.manifest.verifications.some((v) => v.ok))
        .map((entry) => entry.manifest.id);
    },
    async cleanup() {
      for (const service of services.splice(0)) {
        await bounded('closing a worker service', service.close({ force: true }));
      }
      // Redis hygiene only (the prefix is this fixture's own), so bounded: behind a Sentinel
      // topology that was just failed over, a command may wait for a primary for as long as it
      // takes, and once a suite's afterAll hung past its 120 s that way (the step unknown then).
      // Disconnecting rejects whatever still waits.
      await bounded(
        'removing the queue and closing it',
        (async () => {
          await queue.obliterate({ force: true }).catch(() => undefined);
          await queue.close();
        })(),
      );
      connection.disconnect();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

const CLEANUP_STEP_MS = 15_000;

/** Waits for a cleanup step at most CLEANUP_STEP_MS, and says so on stderr when it had to stop. */
async function bounded(step: string, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), CLEANUP_STEP_MS);
  });
  const outcome = await Promise.race([
    work.then(
      () => 'done' as const,
      () => 'done' as const,
    ),
    timedOut,
  ]);
  clearTimeout(timer);
  if (outcome === 'timed out') {
    console.warn(`worker fixture cleanup: ${step} did not finish within ${CLEANUP_STEP_MS} ms; going on`);
  }
}

/**
 * For files whose tests each make their own worker: a `workerFixture` cleaned up after the test,
 * and `onCleanup` for the rest (servers, receivers, files). After each test everything runs in
 * reverse order (useCleanups), so a fixture goes before the servers it was given. Call at the top
 * of the test file.
 */
export function useWorkerFixtures(): {
  workerFixture: typeof workerFixture;
  onCleanup: (cleanup: () => unknown) => void;
} {
  const onCleanup = useCleanups();
  return {
    async workerFixture(env) {
      const fixture = await workerFixture(env);
      onCleanup(() => fixture.cleanup());
      return fixture;
    },
    onCleanup,
  };
}
