import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import type { Logger } from '@pgbackup/backup-core';
import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { withTimeout } from './timeout.js';

export interface HealthSources {
  redis: Redis;
  backupDir: string;
  logger: Logger;
  /** Longest wait for Redis's PING. Default 1 s: a health check must answer fast. */
  pingTimeoutMs?: number;
}

type Check = 'ok' | 'down';

async function redisCheck(sources: HealthSources): Promise<Check> {
  try {
    const answer = await withTimeout(sources.redis.ping(), sources.pingTimeoutMs ?? 1_000, 'Redis PING');
    return answer === 'PONG' ? 'ok' : 'down';
  } catch (error) {
    sources.logger.warn({ err: error }, 'health: Redis is unreachable');
    return 'down';
  }
}

/** The catalog must be listable: read and search permission on the directory. */
async function backupDirCheck(sources: HealthSources): Promise<Check> {
  try {
    await fs.access(sources.backupDir, constants.R_OK | constants.X_OK);
    await fs.readdir(sources.backupDir);
    return 'ok';
  } catch (error) {
    sources.logger.warn(
      { err: error, backupDir: sources.backupDir },
      'ready: the backup directory is not readable',
    );
    return 'down';
  }
}

// Unauthenticated answers say ok or down and nothing else: no path, host or error text.
function answer(res: Response, checks: Record<string, Check>): void {
  const ok = Object.values(checks).every((check) => check === 'ok');
  res
    .status(ok ? 200 : 503)
    .set('Cache-Control', 'no-store')
    .json({ status: ok ? 'ok' : 'unavailable', checks });
}

/** Liveness: the process answers and Redis (the queue) is reachable. */
export function healthz(sources: HealthSources) {
  return async (_req: Request, res: Response) => answer(res, { redis: await redisCheck(sources) });
}

/** Readiness: the dashboard can show both halves of its data, the queue and the catalog. */
export function readyz(sources: HealthSources) {
  return async (_req: Request, res: Response) => {
    const [redis, backupDir] = await Promise.all([redisCheck(sources), backupDirCheck(sources)]);
    answer(res, { redis, backupDir });
  };
}
