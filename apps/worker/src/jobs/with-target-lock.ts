import type { WorkerContext } from '../context.js';
import type { HeldLock } from '../locks/target-lock.js';
import { delayJob } from './delay-job.js';
import type { JobRun } from './job-run.js';

/**
 * Runs `body` holding the target's lock (one dump or prune per target across every worker), and
 * releases the lock whatever `body` does. Nothing runs between taking the lock and the `try` that
 * releases it: a step that throws there (a log directory the worker cannot write, say) would keep
 * the lock renewing for ever, and every later run of the target would wait for it without a word.
 *
 * When another run holds the lock, the job goes back as delayed without spending an attempt: it
 * waits, never collides.
 */
export async function withTargetLock<T>(
  ctx: WorkerContext,
  run: JobRun,
  target: string,
  body: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const lock = await lockOrDelay(ctx, run, target);
  try {
    return await body(lock);
  } finally {
    await lock.release();
  }
}

async function lockOrDelay(ctx: WorkerContext, run: JobRun, target: string): Promise<HeldLock> {
  const lock = await ctx.locks.tryAcquire(target);
  if (lock) return lock;
  return delayJob(ctx, run, `target ${target} is busy (another dump or prune holds its lock)`);
}
