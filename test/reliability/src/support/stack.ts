import { failureCodeOf } from '@pgbackup/queue';
import { waitFor } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import type { Job, Queue } from 'bullmq';
import { type SpawnOptions, spawnWorkerProcess, type WorkerProcess } from './worker-process.js';

/** A dead worker's job is taken over within about 3 s (identical on every worker, as BullMQ requires). */
export const fastTakeover = { BACKUP_JOB_LOCK_MS: '2000', BACKUP_STALLED_INTERVAL_MS: '1000' } as const;
export const fastTakeoverOptions = { lockDurationMs: 2_000, stalledIntervalMs: 1_000 } as const;

export interface Stack extends WorkerFixture {
  processes: WorkerProcess[];
  /** Starts a worker process on this configuration and waits until it has started. */
  spawn(extraEnv?: Record<string, string>, options?: SpawnOptions): Promise<WorkerProcess>;
  /** Waits for a job (by id) to reach completed or failed; fails on timeout. */
  settle(id: string, timeoutMs?: number): Promise<Job>;
}

/**
 * The worker test fixture (temporary backup and log directories, a queue prefix of its own) plus
 * worker processes that are killed at cleanup.
 */
export async function createStack(env: Record<string, string>): Promise<Stack> {
  const fixture = await workerFixture(env);
  // Redis outages are part of these tests: the test's own queue reconnects like the workers' do.
  fixture.queue.on('error', () => undefined);
  const processes: WorkerProcess[] = [];
  const stack: Stack = {
    ...fixture,
    processes,
    async spawn(extraEnv = {}, options = {}) {
      const worker = spawnWorkerProcess({ ...fixture.env, ...extraEnv }, options);
      processes.push(worker);
      await waitFor(
        `worker process ${worker.pid} to start`,
        async () => {
          if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
            throw new Error(`worker exited at start: ${worker.output().slice(-2000)}`);
          }
          return worker.output().includes('"worker started"');
        },
        30_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; its output: ${worker.output().slice(-2000)}`);
      });
      return worker;
    },
    async settle(id, timeoutMs = 60_000) {
      await fixture.finished(id, timeoutMs);
      return (await fixture.queue.getJob(id))!;
    },
    async cleanup() {
      for (const worker of processes.splice(0)) await worker.kill('SIGKILL');
      await fixture.cleanup();
    },
  };
  return stack;
}

/** The `CODE` of a failed job's reason (`CODE: message`). */
export function failureCode(job: Job | undefined): string | undefined {
  return failureCodeOf(job?.failedReason);
}

/** Every job log line of a job, oldest first. */
export async function jobLog(queue: Queue, id: string): Promise<string[]> {
  return (await queue.getJobLogs(id, 0, -1, true)).logs;
}
