import type { TargetConfig } from '@pgbackup/backup-core';
import { DelayedError } from 'bullmq';
import type { WorkerContext } from '../context.js';
import type { HeldLock } from '../locks/target-lock.js';
import type { JobRun } from './job-run.js';

/**
 * A discovered database's dump runs holding one of its server's `discover.concurrency` slots
 * (BACKUP_SERVER_CONCURRENCY, default 2), over every worker: a server with 300 databases never
 * sees 300 dumps at once, while other servers' dumps go on. A slot is a target lock named
 * `<server>#slot<n>` (same token, renewal and expiry as a target's), so a dead worker's slot
 * frees itself. No slot free: the job goes back as delayed, without spending an attempt.
 */
export async function withServerSlot<T>(
  ctx: WorkerContext,
  run: JobRun,
  target: TargetConfig,
  body: (slot: HeldLock | undefined) => Promise<T>,
): Promise<T> {
  const server =
    target.server === undefined ? undefined : ctx.config.targets.find((t) => t.name === target.server);
  const slots = server?.discover?.concurrency;
  if (slots === undefined) return body(undefined);
  let slot: HeldLock | undefined;
  for (let index = 0; index < slots && !slot; index++)
    slot = await ctx.locks.tryAcquire(`${server!.name}#slot${index}`);
  if (!slot) {
    await run.log(
      `server ${server!.name} already runs ${slots} dump(s) (BACKUP_SERVER_CONCURRENCY): waiting ${ctx.lockRetryMs} ms`,
    );
    await run.job.moveToDelayed(Date.now() + ctx.lockRetryMs, run.token);
    throw new DelayedError();
  }
  try {
    return await body(slot);
  } finally {
    await slot.release();
  }
}
