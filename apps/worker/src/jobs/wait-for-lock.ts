import { DelayedError } from 'bullmq';
import type { WorkerContext } from '../context.js';
import type { HeldLock } from '../locks/target-lock.js';
import type { JobRun } from './job-run.js';

/**
 * Takes the target's lock, or puts the job back as delayed (without spending an attempt) when
 * another dump or prune of the same target runs on any worker: the job waits, never collides.
 */
export async function acquireTargetLock(ctx: WorkerContext, run: JobRun, target: string): Promise<HeldLock> {
  const lock = await ctx.locks.tryAcquire(target);
  if (lock) return lock;
  await run.log(
    `target ${target} is busy (another dump or prune holds its lock): waiting ${ctx.lockRetryMs} ms`,
  );
  await run.job.moveToDelayed(Date.now() + ctx.lockRetryMs, run.token);
  throw new DelayedError();
}
