import { randomUUID } from 'node:crypto';
import type { BackupConfig, Logger } from '@pgbackup/backup-core';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { retiredSchedules, upsertSchedule, type WantedSchedule, wantedSchedules } from './schedules.js';

/** What Redis lost of a schedule: the scheduler itself, or only its pending run. */
export type LostPart = 'scheduler' | 'next run';

export interface RestoredSchedule {
  schedule: WantedSchedule;
  lost: LostPart;
}

/** BullMQ names a scheduler's pending run after the scheduler and the run's time (job-scheduler.js). */
function pendingRunId(schedulerId: string, next: number): string {
  return `repeat:${schedulerId}:${next}`;
}

async function lostPart(queue: Queue, id: string): Promise<LostPart | undefined> {
  const scheduler = await queue.getJobScheduler(id);
  if (!scheduler) return 'scheduler';
  // `next` is the time of the scheduler's pending run. A worker that takes that run asks BullMQ
  // for the next one (Worker.nextJobFromJobData) before it processes it, and moves `next` on;
  // until then the run is active. A run that finished (or is gone) while `next` still names it
  // means that request failed and no further run exists: the schedule has stopped. (Our
  // schedulers have no limit or end date, after which BullMQ would leave the same state.)
  const next = scheduler.next;
  if (next === undefined || next === null) return 'next run';
  if (!finishedOrGone(await queue.getJobState(pendingRunId(id, next)))) return undefined;
  // Between the two reads a worker may have taken that run and moved the scheduler on.
  const again = await queue.getJobScheduler(id);
  return again?.next === next ? 'next run' : undefined;
}

/** A pending run in any of these states means its scheduler has no run to come. */
function finishedOrGone(state: string): boolean {
  return state === 'unknown' || state === 'completed' || state === 'failed';
}

function keeperLockKey(prefix: string): string {
  return `${prefix}:schedule-keeper:lock`;
}

const RELEASE_IF_OURS =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * Puts back every schedule of the configuration that Redis no longer holds, and returns them.
 *
 * Schedules live only in Redis. A Redis restarted without persistence, a Sentinel failover that
 * lost the last writes, or a hand that removed a key takes them away, and nothing else would ever
 * create them again before a worker restarts: the schedule stops without a word, the failure our
 * users fear most. Every worker checks once a minute, one at a time (a lock): two restoring the
 * same scheduler at once could each replace the other's run around a slot. Schedules a worker
 * removed because their target left its configuration are not put back by a worker still running
 * the old one (a rolling deploy).
 */
export async function restoreLostSchedules(
  queue: Queue,
  redis: Redis,
  config: BackupConfig,
  logger: Logger,
  lockMs = 30_000,
): Promise<RestoredSchedule[]> {
  const token = randomUUID();
  const lockKey = keeperLockKey(config.redis.prefix);
  if ((await redis.set(lockKey, token, 'PX', lockMs, 'NX')) !== 'OK') return [];
  const restored: RestoredSchedule[] = [];
  try {
    const retired = await retiredSchedules(redis, config.redis.prefix);
    const kept = wantedSchedules(config).filter((schedule) => !retired.has(schedule.id));
    // The common case, every schedule in place, in one listing and one state read each, sent
    // together; only a schedule that looks lost is looked at again, one read after the other.
    const present = new Map(
      (await queue.getJobSchedulers(0, -1, true)).map((scheduler) => [scheduler.key, scheduler.next]),
    );
    const pendingStates = await Promise.all(
      kept.map((schedule) => {
        const next = present.get(schedule.id);
        return typeof next === 'number' ? queue.getJobState(pendingRunId(schedule.id, next)) : 'unknown';
      }),
    );
    const suspects = kept.filter((_, index) => finishedOrGone(pendingStates[index]!));
    for (const schedule of suspects) {
      try {
        const lost = await lostPart(queue, schedule.id);
        if (lost === undefined) continue;
        await upsertSchedule(queue, schedule);
        restored.push({ schedule, lost });
        logger.warn(
          { target: schedule.target, scheduler: schedule.id, lost },
          'a schedule was missing from Redis and was put back: Redis lost data (restarted without persistence, a failover, or a key removed); jobs that were waiting then are gone',
        );
      } catch (error) {
        // One schedule's trouble must not leave the others unchecked until the next pass.
        logger.warn(
          { target: schedule.target, scheduler: schedule.id, err: (error as Error).message },
          'could not check or put back a schedule',
        );
      }
    }
    // The queue-wide concurrency lives in the same Redis and went with the schedules.
    if (restored.length > 0) await queue.setGlobalConcurrency(config.worker.concurrency);
    return restored;
  } finally {
    await redis.eval(RELEASE_IF_OURS, 1, lockKey, token);
  }
}
