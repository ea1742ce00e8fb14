import type { Logger, RunLog } from '@pgbackup/backup-core';
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
  /**
   * This attempt's run log in BACKUP_LOG_DIR, opened on first call. The processor ends it
   * (STATUS: SUCCESS or STATUS: ERROR): handlers never close it themselves.
   */
  openRunLog(target: string): Promise<RunLog>;
  /** The run log's last line before STATUS: SUCCESS. */
  summary(text: string): void;
}
