import type { Redis } from 'ioredis';

/**
 * Since when a worker has watched each target: the start of a new target's grace period (see
 * targetHealth in backup-core). Workers write it, `backupctl status` and the dashboard read it.
 * One hash per queue prefix, a field per target; the first worker to see a target sets it.
 */
function watchedKey(prefix: string): string {
  return `${prefix}:targets:watched-since`;
}

export async function markWatched(
  redis: Redis,
  prefix: string,
  targets: readonly string[],
  now = new Date(),
) {
  if (targets.length === 0) return;
  const pipeline = redis.pipeline();
  for (const target of targets) pipeline.hsetnx(watchedKey(prefix), target, now.toISOString());
  await pipeline.exec();
}

export async function watchedSince(redis: Redis, prefix: string): Promise<Map<string, Date>> {
  const fields = await redis.hgetall(watchedKey(prefix));
  const since = new Map<string, Date>();
  for (const [target, iso] of Object.entries(fields)) {
    const at = new Date(iso);
    if (!Number.isNaN(at.getTime())) since.set(target, at);
  }
  return since;
}
