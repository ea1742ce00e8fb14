import type { BackupConfig, Logger } from '@pgbackup/backup-core';
import { defaultJobOptions, dumpSchedulerId, jobNames, targetOfSchedulerId } from '@pgbackup/queue';
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
  for (const scheduler of await queue.getJobSchedulers(0, -1, true)) {
    const target = targetOfSchedulerId(scheduler.key);
    if (target !== undefined && !wanted.has(target)) {
      await queue.removeJobScheduler(scheduler.key);
      logger.info({ target }, 'schedule removed: the target left the configuration');
    }
  }
}
