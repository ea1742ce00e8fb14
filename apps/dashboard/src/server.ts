import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@pgbackup/backup-core';
import {
  createBackupQueue,
  createRedisConnection,
  replicasConfirming,
  watchedSince,
  withDiscoveredTargets,
} from '@pgbackup/queue';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CsrfTokens, redisSecret } from './actions/csrf.js';
import { createDashboardApp } from './app.js';
import { resolveAccess } from './auth/access.js';
import type { DashboardConfig } from './config/dashboard-section.js';
import { DashboardPaths } from './paths.js';
import { withTimeout } from './timeout.js';

export interface StartDashboardOptions {
  /** Default: a JSON logger at the configured level. */
  logger?: Logger;
  /** Where a generated password is announced. Default process.stderr (never the JSON log). */
  announce?: (line: string) => void;
  /** Longest wait for open requests and Redis at close. Default 5 s. */
  closeTimeoutMs?: number;
}

export interface RunningDashboard {
  /** `http://host:port/base/`, the address the dashboard answers on. */
  url: string;
  host: string;
  port: number;
  /** Set when no password was configured: the one made up for this run (also announced). */
  generatedPassword?: string;
  close(): Promise<void>;
}

function urlOf(host: string, port: number, paths: DashboardPaths): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}${paths.prefix}/`;
}

/**
 * Starts the dashboard: its own Redis connection and queue handle, the app, and the listening
 * server. Installs no signal handler (main.ts does); close() stops it all.
 */
export async function startDashboard(
  config: DashboardConfig,
  options: StartDashboardOptions = {},
): Promise<RunningDashboard> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'pgbackup-dashboard' });
  const announce = options.announce ?? ((line: string) => process.stderr.write(`${line}\n`));
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  const access = resolveAccess(config.dashboard);
  for (const warning of access.warnings) logger.warn(warning);

  // Unlike the worker, the dashboard must answer while Redis is away: a command fails after one
  // reconnection attempt instead of waiting for Redis, and every Redis call is bounded by a
  // timeout besides (BullMQ first waits for the connection to be ready).
  const redis = createRedisConnection(config.redis, { maxRetriesPerRequest: 1 });
  const queue = createBackupQueue(config, redis);
  queue.on('error', (error) => logger.debug({ err: error }, 'queue connection error'));
  // Behind Sentinel the actions wait for a replica on a connection of their own (target-routes.ts).
  const actionsRedis = config.redis.sentinel
    ? createRedisConnection(config.redis, { maxRetriesPerRequest: 1 })
    : undefined;
  const actionsQueue = actionsRedis ? createBackupQueue(config, actionsRedis) : undefined;
  actionsQueue?.on('error', (error) => logger.debug({ err: error }, 'action queue connection error'));
  const closeQueue = async (handle: Queue, connection: Redis) => {
    await withTimeout(handle.close(), closeTimeoutMs, 'queue close').catch(() => undefined);
    await withTimeout(connection.quit(), closeTimeoutMs, 'Redis QUIT').catch(() => connection.disconnect());
  };

  const app = createDashboardApp({
    config,
    queue,
    redis,
    accounts: access.accounts,
    csrf: new CsrfTokens(redisSecret(redis, config.redis.prefix)),
    logger,
    watchedSince: () => watchedSince(redis, config.redis.prefix),
    knownTargets: () => withDiscoveredTargets(redis, config),
    ...(actionsQueue && actionsRedis
      ? { actions: { queue: actionsQueue, replicasConfirming: () => replicasConfirming(actionsRedis) } }
      : {}),
  });
  const server: Server = app.listen(config.dashboard.port, access.host);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await queue.close().catch(() => undefined);
    redis.disconnect();
    await actionsQueue?.close().catch(() => undefined);
    actionsRedis?.disconnect();
    throw error;
  }
  server.on('error', (error) => logger.error({ err: error }, 'dashboard server error'));
  const port = (server.address() as AddressInfo).port;
  const paths = new DashboardPaths(config.dashboard.basePath);
  const url = urlOf(access.host, port, paths);

  if (access.generated) {
    announce(
      `dashboard: no DASHBOARD_PASSWORD is set; log in at ${url} as user "${access.generated.user}" with the ` +
        `password ${access.generated.password} (made up for this run; listening on ${access.host} only)`,
    );
  }
  logger.info({ host: access.host, port, basePath: config.dashboard.basePath }, 'dashboard listening');

  let closing: Promise<void> | undefined;
  const close = async () => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Browsers keep connections alive; idle ones would hold close() for minutes.
      server.closeIdleConnections();
      await withTimeout(stopped, closeTimeoutMs, 'open requests').catch(() => server.closeAllConnections());
      await closeQueue(queue, redis);
      if (actionsQueue && actionsRedis) await closeQueue(actionsQueue, actionsRedis);
    })();
    return closing;
  };
  return {
    url,
    host: access.host,
    port,
    ...(access.generated ? { generatedPassword: access.generated.password } : {}),
    close,
  };
}
