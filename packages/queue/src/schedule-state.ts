import type { JobSchedulerJson, Queue } from 'bullmq';
import { targetOfSchedulerId } from './names.js';

/**
 * Whether a target's scheduled runs will happen, as far as Redis shows it; the one rule for
 * `backupctl status` and the dashboard's metrics:
 * - `missing`: no job scheduler for it (no worker ever started with this target, or Redis lost
 *   its schedulers and no worker is running to put them back: the schedule keeper does that);
 * - `overdue`: the pending run is more than SCHEDULE_OVERDUE_GRACE_MS past its time and no
 *   worker is connected to take it. With workers connected a late run is a queue still working
 *   through a slot (500 databases due at once wait their turn), not a stopped schedule;
 * - `unknown`: Redis unreachable.
 */
export type ScheduleState = 'ok' | 'missing' | 'overdue' | 'unknown';

/** How late a pending run may be before it counts as overdue (when no worker is connected). */
export const SCHEDULE_OVERDUE_GRACE_MS = 2 * 60_000;

export function scheduleState(input: {
  redisReachable: boolean;
  /** The scheduler of the target (a discovered database: its server's), if Redis has one. */
  scheduler: { next: Date | undefined } | undefined;
  /** Workers connected to the queue; undefined when Redis does not say (CLIENT LIST refused). */
  workers: number | undefined;
  now: Date;
}): ScheduleState {
  if (!input.redisReachable) return 'unknown';
  if (!input.scheduler) return 'missing';
  const due = input.scheduler.next;
  if (
    input.workers === 0 &&
    due !== undefined &&
    input.now.getTime() - due.getTime() > SCHEDULE_OVERDUE_GRACE_MS
  )
    return 'overdue';
  return 'ok';
}

/** The dump schedulers in Redis, by target name. */
export async function dumpSchedulersByTarget(queue: Queue): Promise<Map<string, JobSchedulerJson>> {
  const byTarget = new Map<string, JobSchedulerJson>();
  for (const scheduler of await queue.getJobSchedulers(0, -1, true)) {
    const target = targetOfSchedulerId(scheduler.key);
    if (target !== undefined) byTarget.set(target, scheduler);
  }
  return byTarget;
}

/** When a scheduler's pending run is due; undefined when it has none. */
export function pendingRunOf(scheduler: JobSchedulerJson | undefined): Date | undefined {
  return scheduler?.next === undefined || scheduler.next === null
    ? undefined
    : new Date(Number(scheduler.next));
}

/** What BullMQ answers for the clients when Redis refuses CLIENT LIST (queue-getters.js). */
const CLIENT_LIST_REFUSED = 'GCP does not support client list';

/**
 * The workers connected to the queue (BullMQ names their connections), or undefined when the
 * server does not say: CLIENT LIST refused, as some managed Redis services do. BullMQ's own
 * getWorkersCount counts its stand-in for that answer as one worker.
 */
export async function connectedWorkers(queue: Queue): Promise<number | undefined> {
  try {
    const workers = await queue.getWorkers();
    if (workers.some((worker) => worker.name === CLIENT_LIST_REFUSED)) return undefined;
    return workers.length;
  } catch {
    return undefined;
  }
}
