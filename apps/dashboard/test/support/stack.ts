import { listBackups, type Manifest, silentLogger, verificationState } from '@pgbackup/backup-core';
import {
  createBackupQueue,
  createRedisConnection,
  type DrillJobResult,
  enqueueDrill,
  enqueueDump,
  parseJobResult,
} from '@pgbackup/queue';
import { waitFor } from '@pgbackup/testkit';
import { startWorkerService } from '@pgbackup/worker';
import type { Queue } from 'bullmq';
import { type RunningDashboard, startDashboard } from '../../src/index.js';
import { type TestSetup, testSetup } from './config.js';

export interface BackupStack {
  setup: TestSetup;
  dashboard: RunningDashboard;
  /** A queue handle of the test's own, to enqueue and inspect jobs. */
  queue: Queue;
  waitForJob(id: string, state: 'completed' | 'failed', timeoutMs?: number): Promise<void>;
  waitForVerifiedBackup(target: string, timeoutMs?: number): Promise<Manifest>;
  /** Enqueues a dump of `target`; returns its backup once the dump completed and the backup is verified. */
  backUp(target: string): Promise<Manifest>;
  /** Enqueues a drill of `target`; returns its result once it completed. */
  drill(target: string): Promise<DrillJobResult>;
  close(): Promise<void>;
}

/** The real worker service and the dashboard on one configuration: the system as deployed. */
export async function startBackupStack(env: Record<string, string>): Promise<BackupStack> {
  const setup = testSetup({ BACKUP_SCHEDULE: '0 2 * * *', BACKUP_VERIFY: 'read', ...env });
  const worker = await startWorkerService(setup.config, { logger: silentLogger });
  const dashboard = await startDashboard(setup.config, { announce: () => undefined });
  const connection = createRedisConnection(setup.config.redis);
  const queue = createBackupQueue(setup.config, connection);
  const stack: BackupStack = {
    setup,
    dashboard,
    queue,
    async waitForJob(id, state, timeoutMs = 60_000) {
      let seen = '';
      await waitFor(
        `job ${id} to be ${state}`,
        async () => {
          seen = await queue.getJobState(id);
          if (seen === (state === 'completed' ? 'failed' : 'completed')) {
            const job = await queue.getJob(id);
            throw new Error(`job ${id} is ${seen}: ${job?.failedReason ?? 'no failure'}`);
          }
          return seen === state;
        },
        timeoutMs,
      );
    },
    async waitForVerifiedBackup(target, timeoutMs = 90_000) {
      let verified: Manifest | undefined;
      await waitFor(
        `a verified backup of ${target}`,
        async () => {
          const { entries } = await listBackups(setup.config.backupDir, { target });
          verified = entries.find(
            (entry) => verificationState(entry.manifest).state === 'verified',
          )?.manifest;
          return verified !== undefined;
        },
        timeoutMs,
      );
      return verified!;
    },
    async backUp(target) {
      const dump = await enqueueDump(queue, { target });
      await stack.waitForJob(dump.id!, 'completed');
      return stack.waitForVerifiedBackup(target);
    },
    async drill(target) {
      const drill = await enqueueDrill(queue, { target });
      await stack.waitForJob(drill.id!, 'completed', 120_000);
      return parseJobResult('drill', drill.id, (await queue.getJob(drill.id!))?.returnvalue);
    },
    async close() {
      await dashboard.close();
      await worker.close({ force: true });
      await queue.close();
      connection.disconnect();
      setup.cleanup();
    },
  };
  return stack;
}
