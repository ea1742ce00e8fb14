import { BackupError, type Logger } from '@pgbackup/backup-core';
import type { Redis } from 'ioredis';

async function configValue(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', name)) as string[];
    return reply[1];
  } catch {
    // Managed Redis services often disable CONFIG: nothing can be checked then.
    return undefined;
  }
}

/**
 * A queue whose Redis evicts keys loses jobs and schedules without a word, so an evicting policy
 * stops the worker; no persistence at all only warns (a restart would lose waiting jobs and
 * schedulers, though never a backup: the files and manifests are the record).
 */
export async function checkRedisSettings(redis: Redis, logger: Logger): Promise<void> {
  const policy = await configValue(redis, 'maxmemory-policy');
  if (policy === undefined) {
    logger.warn(
      'could not read the Redis configuration (CONFIG GET is disabled?): make sure maxmemory-policy is noeviction and AOF is on',
    );
    return;
  }
  if (policy !== 'noeviction') {
    throw new BackupError(
      'CONFIG_INVALID',
      `Redis maxmemory-policy is ${policy}: it may evict queued jobs and schedules. Set maxmemory-policy noeviction (redis.conf or CONFIG SET maxmemory-policy noeviction)`,
    );
  }
  const appendonly = await configValue(redis, 'appendonly');
  const save = await configValue(redis, 'save');
  if (appendonly !== 'yes' && !save) {
    logger.warn(
      'Redis has no persistence (appendonly no, no save points): a Redis restart loses waiting jobs and schedules until the workers restart. Use appendonly yes, appendfsync everysec',
    );
  }
}
