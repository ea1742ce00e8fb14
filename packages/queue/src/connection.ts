import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection as BullMQ requires it: `maxRetriesPerRequest: null` so that blocking
 * commands wait through a Redis restart instead of failing the worker. Never a keyPrefix:
 * BullMQ's own `prefix` option does that.
 */
export function createRedisConnection(url: string, options: RedisOptions = {}): Redis {
  const connection = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
  // Connection errors are reported by the health checks and BullMQ's own events; without a
  // listener ioredis would print each reconnect attempt as an unhandled error.
  connection.on('error', () => undefined);
  return connection;
}

/** For one-shot commands (the CLI): fail fast when Redis is down instead of waiting for ever. */
export function createCommandConnection(url: string): Redis {
  const connection = new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    retryStrategy: (times) => (times > 2 ? null : 200),
    lazyConnect: true,
  });
  connection.on('error', () => undefined);
  return connection;
}
