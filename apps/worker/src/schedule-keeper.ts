import type { BackupConfig, Logger } from '@pgbackup/backup-core';
import type { Queue } from 'bullmq';
import { upsertSchedule, type WantedSchedule, wantedSchedules } from './schedules.js';

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
  // A scheduler always has its next run as a job: BullMQ creates it in the same script that
  // takes the current run. Without a next time the schedule has ended (a limit or an end date).
  const next = scheduler.next;
  if (next === undefined || next === null) return undefined;
  if ((await queue.getJobState(pendingRunId(id, next))) !== 'unknown') return undefined;
  // Between the two reads a worker may have taken that run and moved the scheduler on.
  const again = await queue.getJobScheduler(id);
  return again?.next === next ? 'next run' : undefined;
}

/**
 * Puts back every schedule of the configuration that Redis no longer holds, and returns them.
 *
 * Schedules live only in Redis. A Redis restarted without persistence, a Sentinel failover that
 * lost the last writes, or a hand that removed a key takes them away, and nothing else would ever
 * create them again before a worker restarts: the schedule stops without a word, the failure our
 * users fear most. Every worker checks once a minute; upserting the same id twice (two workers
 * at once) still leaves one scheduler with one pending run.
 */
export async function restoreLostSchedules(
  queue: Queue,
  config: BackupConfig,
  logger: Logger,
): Promise<RestoredSchedule[]> {
  const restored: RestoredSchedule[] = [];
  for (const schedule of wantedSchedules(config)) {
    const lost = await lostPart(queue, schedule.id);
    if (lost === undefined) continue;
    await upsertSchedule(queue, schedule);
    restored.push({ schedule, lost });
    logger.warn(
      { target: schedule.target, scheduler: schedule.id, lost },
      'a schedule was missing from Redis and was put back: Redis lost data (restarted without persistence, a failover, or a key removed); jobs that were waiting then are gone',
    );
  }
  // The queue-wide concurrency lives in the same Redis and went with the schedules.
  if (restored.length > 0) await queue.setGlobalConcurrency(config.worker.concurrency);
  return restored;
}
