import os from 'node:os';
import { BackupError, redactSecrets } from '@pgbackup/backup-core';
import {
  errorCodeOf,
  isFinalFailure,
  isJobName,
  type JobName,
  jobNames,
  parseJobData,
  toJobError,
} from '@pgbackup/queue';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { WorkerContext } from '../context.js';
import { runDiscoverJob } from '../discovery/discover-job.js';
import { AttemptRunLog } from './attempt-run-log.js';
import { runCopyJob } from './copy-job.js';
import { runDrillJob } from './drill-job.js';
import { runDumpJob } from './dump-job.js';
import type { JobRun } from './job-run.js';
import { runPruneJob } from './prune-job.js';
import { runRestoreJob } from './restore-job.js';
import { claimRestoreRun } from './restore-once.js';
import { runVerifyJob } from './verify-job.js';

/** Jobs in progress on this worker, so a shutdown past its deadline can abort them. */
export type ActiveJobs = Map<string, AbortController>;

const handlers: { [N in JobName]: (ctx: WorkerContext, run: JobRun, data: never) => Promise<unknown> } = {
  dump: runDumpJob,
  verify: runVerifyJob,
  copy: runCopyJob,
  prune: runPruneJob,
  restore: runRestoreJob,
  drill: runDrillJob,
  discover: runDiscoverJob,
};

/**
 * The BullMQ processor: validates the job's data (invalid data fails at once, unretried, naming
 * the field), runs the handler under a timeout and the worker's abort signal, and writes every
 * attempt's start and end to the job log.
 */
export function createProcessor(ctx: WorkerContext, active: ActiveJobs) {
  return async (job: Job, token?: string, cancelSignal?: AbortSignal): Promise<unknown> => {
    if (!isJobName(job.name)) {
      throw new UnrecoverableError(
        `JOB_NAME_UNKNOWN: no job named ${JSON.stringify(job.name)}; expected dump, verify, copy, prune, restore, drill or discover`,
      );
    }
    const maxAttempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade + 1;
    const logger = ctx.logger.child({ jobId: job.id, job: job.name });
    const log = async (message: string) => {
      logger.info(message);
      // The job log lives in Redis; the logger above redacts on its own. Not waited for: it goes
      // out on the worker's connection ahead of the job's completion, so Redis keeps the order,
      // and a small job no longer waits for a round trip per line (issue 18).
      void job.log(`${new Date().toISOString()} ${redactSecrets(message)}`).catch(() => undefined);
    };
    let data: unknown;
    try {
      data = parseJobData(job.name, job.data);
    } catch (error) {
      await log(`rejected: ${(error as Error).message}`);
      throw toJobError(error);
    }
    if (job.name === jobNames.restore) {
      try {
        await claimRestoreRun(ctx, job);
      } catch (error) {
        await log(`rejected: ${(error as Error).message}`);
        throw error;
      }
    }

    const controller = new AbortController();
    const timeout = setTimeout(
      () =>
        controller.abort(
          `the job exceeded BACKUP_TIMEOUT (${Math.round(ctx.config.worker.timeoutMs / 1000)} s)`,
        ),
      ctx.config.worker.timeoutMs,
    );
    const onCancel = () => controller.abort(String(cancelSignal?.reason ?? 'cancelled'));
    cancelSignal?.addEventListener('abort', onCancel, { once: true });
    active.set(job.id!, controller);
    const runLog = new AttemptRunLog(ctx.config.logDir, job.name);
    const run: JobRun = {
      job,
      token,
      signal: controller.signal,
      logger,
      attempt,
      maxAttempts,
      log,
      openRunLog: (target) => runLog.open(target),
      summary: (text) => runLog.summary(text),
    };
    await log(`attempt ${attempt}/${maxAttempts} started on ${os.hostname()} (pid ${process.pid})`);
    try {
      const result = await handlers[job.name](ctx, run, data as never);
      await runLog.succeed(`job ${job.id}: ${job.name} done`);
      await log(`attempt ${attempt}/${maxAttempts} succeeded`);
      return result;
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      // Whatever a stage threw on its way down, an aborted attempt is reported as aborted (and retried).
      const cause =
        controller.signal.aborted && !(error instanceof BackupError && error.code === 'ABORTED')
          ? new BackupError('ABORTED', `aborted: ${String(controller.signal.reason)}`, { cause: error })
          : error;
      await runLog.fail(cause);
      const jobError = toJobError(cause);
      // BullMQ counts this attempt once the processor throws: decide as its `failed` event will.
      const final = isFinalFailure({ attemptsMade: attempt, opts: job.opts }, jobError);
      const next = final
        ? jobError instanceof UnrecoverableError
          ? 'not retried: retrying cannot fix this'
          : 'no attempt left'
        : 'will be retried';
      await log(`attempt ${attempt}/${maxAttempts} failed (${next}): ${jobError.message}`);
      if (errorCodeOf(cause) === 'INTERNAL') logger.error({ err: error }, 'unexpected error');
      throw jobError;
    } finally {
      clearTimeout(timeout);
      cancelSignal?.removeEventListener('abort', onCancel);
      active.delete(job.id!);
    }
  };
}
