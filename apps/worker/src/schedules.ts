import type { BackupConfig, Logger } from '@pgbackup/backup-core';
import {
  defaultJobOptions,
  drillSchedulerId,
  dumpSchedulerId,
  jobNames,
  targetOfDrillSchedulerId,
  targetOfSchedulerId,
} from '@pgbackup/queue';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** One job scheduler the configuration asks for: its id and what upserting it takes. */
export interface WantedSchedule {
  id: string;
  target: string;
  kind: 'dump' | 'drill';
  repeat: { pattern: string; tz: string };
  template: { name: string; data: Record<string, string>; opts: ReturnType<typeof defaultJobOptions> };
}

/** Every scheduler the configuration asks for: a dump (or discovery) per target, a drill per drilled target. */
export function wantedSchedules(config: BackupConfig): WantedSchedule[] {
  const wanted: WantedSchedule[] = [];
  for (const target of config.targets) {
    wanted.push({
      id: dumpSchedulerId(target.name),
      target: target.name,
      kind: 'dump',
      repeat: { pattern: target.schedule, tz: target.timeZone },
      // A server target's run is a discovery, which then enqueues a dump of each database.
      template: target.discover
        ? {
            name: jobNames.discover,
            data: { server: target.name, origin: 'schedule' },
            opts: defaultJobOptions(config),
          }
        : {
            name: jobNames.dump,
            data: { target: target.name, origin: 'schedule' },
            opts: defaultJobOptions(config),
          },
    });
  }
  // Drills only for targets with a drill server; read in the target's time zone.
  for (const target of config.targets) {
    if (!target.drill.server) continue;
    wanted.push({
      id: drillSchedulerId(target.name),
      target: target.name,
      kind: 'drill',
      repeat: { pattern: target.drill.schedule, tz: target.timeZone },
      template: {
        name: jobNames.drill,
        data: { target: target.name, origin: 'schedule' },
        opts: defaultJobOptions(config),
      },
    });
  }
  return wanted;
}

function retiredKey(prefix: string): string {
  return `${prefix}:schedules:retired`;
}

/**
 * Scheduler ids a worker removed because their target left its configuration. The schedule
 * keeper does not put these back: during a rolling deploy a worker still running the old
 * configuration would otherwise restore a schedule the new one had just removed.
 */
export async function retiredSchedules(redis: Redis, prefix: string): Promise<Set<string>> {
  return new Set(await redis.smembers(retiredKey(prefix)));
}

/** Upserting the same id replaces the scheduler and its pending run: never a second one. */
export async function upsertSchedule(queue: Queue, schedule: WantedSchedule): Promise<void> {
  await queue.upsertJobScheduler(schedule.id, schedule.repeat, schedule.template);
}

/**
 * One job scheduler per target, upserted at every start: upserting the same id replaces it, so
 * restarts and several workers never duplicate a schedule. Schedulers of targets that left the
 * configuration are removed.
 */
export async function syncSchedules(
  queue: Queue,
  redis: Redis,
  config: BackupConfig,
  logger: Logger,
): Promise<void> {
  const wanted = wantedSchedules(config);
  const retired = retiredKey(config.redis.prefix);
  // A target back in the configuration is no longer retired (before its upsert, for the keeper).
  if (wanted.length > 0) await redis.srem(retired, ...wanted.map((schedule) => schedule.id));
  for (const schedule of wanted) {
    await upsertSchedule(queue, schedule);
    if (schedule.kind === 'dump')
      logger.info(
        { target: schedule.target, schedule: schedule.repeat.pattern, timeZone: schedule.repeat.tz },
        'schedule in place',
      );
    else
      logger.info(
        { target: schedule.target, drillSchedule: schedule.repeat.pattern },
        'drill schedule in place',
      );
  }
  const dumped = new Set(wanted.filter((s) => s.kind === 'dump').map((s) => s.target));
  const drilled = new Set(wanted.filter((s) => s.kind === 'drill').map((s) => s.target));
  for (const scheduler of await queue.getJobSchedulers(0, -1, true)) {
    const target = targetOfSchedulerId(scheduler.key);
    if (target !== undefined && !dumped.has(target)) {
      await redis.sadd(retired, scheduler.key);
      await queue.removeJobScheduler(scheduler.key);
      logger.info({ target }, 'schedule removed: the target left the configuration');
    }
    const drillTarget = targetOfDrillSchedulerId(scheduler.key);
    if (drillTarget !== undefined && !drilled.has(drillTarget)) {
      await redis.sadd(retired, scheduler.key);
      await queue.removeJobScheduler(scheduler.key);
      logger.info({ target: drillTarget }, 'drill schedule removed: no drill server for the target');
    }
  }
}
