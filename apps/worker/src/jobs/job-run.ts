import type { Logger } from '@pgbackup/backup-core';
import type { Job } from 'bullmq';

/** One attempt of one job, as a handler sees it. */
export interface JobRun {
  job: Job;
  /** The lock token BullMQ gave this attempt (needed to move the job to delayed). */
  token: string | undefined;
  /** Aborts on timeout, on `worker.cancelJob`, and when the worker shuts down past its deadline. */
  signal: AbortSignal;
  logger: Logger;
  attempt: number;
  maxAttempts: number;
  /** Writes to the job's log (Bull Board shows it) and to the structured log. */
  log(message: string): Promise<void>;
}
