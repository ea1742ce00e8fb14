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

/**
 * One job scheduler per target, upserted at every start: upserting the same id replaces it, so
 * restarts and several workers never duplicate a schedule. Schedulers of targets that left the
 * configuration are removed.
 */
export async function syncSchedules(queue: Queue, config: BackupConfig, logger: Logger): Promise<void> {
  const wanted = new Set(config.targets.map((target) => target.name));
  for (const target of config.targets) {
    await queue.upsertJobScheduler(
      dumpSchedulerId(target.name),
      { pattern: target.schedule, tz: target.timeZone },
      // A server target's run is a discovery, which then enqueues a dump of each database.
      target.discover
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
    );
    logger.info(
      { target: target.name, schedule: target.schedule, timeZone: target.timeZone },
      'schedule in place',
    );
  }
  // Drills only for targets with a drill server; read in the target's time zone.
  const drilled = new Set<string>();
  for (const target of config.targets) {
    if (!target.drill.server) continue;
    drilled.add(target.name);
    await queue.upsertJobScheduler(
      drillSchedulerId(target.name),
      { pattern: target.drill.schedule, tz: target.timeZone },
      {
        name: jobNames.drill,
        data: { target: target.name, origin: 'schedule' },
        opts: defaultJobOptions(config),
      },
    );
    logger.info({ target: target.name, drillSchedule: target.drill.schedule }, 'drill schedule in place');
  }
  for (const scheduler of await queue.getJobSchedulers(0, -1, true)) {
    const target = targetOfSchedulerId(scheduler.key);
    if (target !== undefined && !wanted.has(target)) {
      await queue.removeJobScheduler(scheduler.key);
      logger.info({ target }, 'schedule removed: the target left the configuration');
    }
    const drillTarget = targetOfDrillSchedulerId(scheduler.key);
    if (drillTarget !== undefined && !drilled.has(drillTarget)) {
      await queue.removeJobScheduler(scheduler.key);
      logger.info({ target: drillTarget }, 'drill schedule removed: no drill server for the target');
    }
  }
}
