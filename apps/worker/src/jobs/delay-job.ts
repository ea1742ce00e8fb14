import { DelayedError } from 'bullmq';
import type { WorkerContext } from '../context.js';
import type { JobRun } from './job-run.js';

/**
 * Puts the job back as delayed for `ctx.lockRetryMs`, saying why in its log, without spending an
 * attempt: a busy lock or a spent budget means "wait", never "failed". Throws BullMQ's DelayedError,
 * which tells the worker the job was moved on purpose.
 */
export async function delayJob(
  ctx: WorkerContext,
  run: JobRun,
  why: string,
  afterDelayed?: () => Promise<void>,
): Promise<never> {
  await run.log(`${why}: waiting ${ctx.lockRetryMs} ms`);
  await run.job.moveToDelayed(Date.now() + ctx.lockRetryMs, run.token);
  await afterDelayed?.();
  throw new DelayedError();
}
