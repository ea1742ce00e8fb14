import type { WorkerContext } from '../context.js';
import type { SlotPool } from '../locks/slot-pools.js';
import type { HeldLock } from '../locks/target-lock.js';
import { delayJob } from './delay-job.js';
import type { JobRun } from './job-run.js';

/**
 * Runs `body` holding a slot of `pool` (none needed when `pool` is undefined), and gives the slot
 * back whatever `body` does. No slot free: the job goes back as delayed without spending an
 * attempt, like a busy target lock (with-target-lock.ts).
 */
export async function withSlot<T>(
  ctx: WorkerContext,
  run: JobRun,
  pool: SlotPool | undefined,
  body: (slot: HeldLock | undefined) => Promise<T>,
): Promise<T> {
  if (pool === undefined) return body(undefined);
  const slot = await ctx.slots.tryAcquire(pool.pool, pool.limit);
  if (!slot) return delayJob(ctx, run, pool.busy);
  try {
    return await body(slot);
  } finally {
    await slot.release();
  }
}
