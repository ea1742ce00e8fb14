import type { WorkerContext } from '../context.js';
import type { SlotPool } from '../locks/slot-pools.js';
import type { HeldLock } from '../locks/target-lock.js';
import { delayJob } from './delay-job.js';
import type { JobRun } from './job-run.js';

/** How many waiters a released slot tries before giving up (the others' delays still run out). */
const WAKE_TRIES = 5;

/**
 * Runs `body` holding a slot of `pool` (none needed when `pool` is undefined), and gives the slot
 * back whatever `body` does. No slot free: the job goes back as delayed without spending an
 * attempt, like a busy target lock (with-target-lock.ts), and waits in the pool's list.
 *
 * A released slot wakes the longest-waiting job at once (promotes it from delayed), so a server
 * with 500 databases and a cap of 2 is not paced by the retry delay: before, every job that found
 * the cap spent slept the whole delay (5 s) however soon a slot came free, and a 500-database run
 * took about five times the sum of its dumps divided by the cap (docs/reliability.md). The delay
 * stays as the fallback should a wake-up be lost (a worker dying between release and wake-up).
 */
export async function withSlot<T>(
  ctx: WorkerContext,
  run: JobRun,
  pool: SlotPool | undefined,
  body: (slot: HeldLock | undefined) => Promise<T>,
): Promise<T> {
  if (pool === undefined) return body(undefined);
  const slot = await ctx.slots.tryAcquire(pool.pool, pool.limit);
  if (!slot) {
    // Noted as a waiter only when it must wait, so a job that finds a slot pays no extra round trip.
    await ctx.slots.addWaiter(pool.pool, run.job.id!);
    return delayJob(ctx, run, pool.busy, async () => {
      // A slot freed before this job was noted or delayed woke nobody, or could not promote it:
      // look once more now that it is delayed.
      if ((await ctx.slots.holders(pool.pool)) < pool.limit) await run.job.promote().catch(() => undefined);
    });
  }
  // Woken and now holding a slot (or never noted): off the waiters, so no release wakes it again.
  await ctx.slots.removeWaiter(pool.pool, run.job.id!);
  try {
    return await body(slot);
  } finally {
    await slot.release();
    await wakeWaiter(ctx, pool.pool).catch((error: unknown) =>
      run.logger.warn({ err: (error as Error).message, pool: pool.pool }, 'could not wake a waiting job'),
    );
  }
}

/** Promotes the longest-waiting delayed job of the pool; skips ids that are gone or already running. */
async function wakeWaiter(ctx: WorkerContext, pool: string): Promise<void> {
  for (let tries = 0; tries < WAKE_TRIES; tries++) {
    const jobId = await ctx.slots.nextWaiter(pool);
    if (jobId === undefined) return;
    const job = await ctx.queue.getJob(jobId);
    if (!job || !(await job.isDelayed())) continue;
    try {
      await job.promote();
      return;
    } catch {
      // Promoted by someone else or no longer delayed: the next waiter.
    }
  }
}
