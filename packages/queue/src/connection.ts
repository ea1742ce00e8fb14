import { type BackupConfig, BackupError, redactUrl } from '@pgbackup/backup-core';
import { Redis, type RedisOptions } from 'ioredis';

/** Where Redis is and how to log in: `config.redis` (the password is REDIS_PASSWORD[_FILE]). */
export type RedisAddress = Pick<BackupConfig['redis'], 'url' | 'password'>;

/**
 * The password goes to ioredis as an option, never into the URL: the URL is what gets logged
 * (redacted) and shown in errors. A password in the URL itself still works (ioredis reads it);
 * the configuration refuses both at once.
 */
function withPassword(address: RedisAddress, options: RedisOptions): RedisOptions {
  return address.password === undefined ? options : { ...options, password: address.password };
}

/**
 * A Redis connection as BullMQ requires it: `maxRetriesPerRequest: null` so that blocking
 * commands wait through a Redis restart instead of failing the worker. Never a keyPrefix:
 * BullMQ's own `prefix` option does that.
 */
export function createRedisConnection(address: RedisAddress, options: RedisOptions = {}): Redis {
  const connection = new Redis(
    address.url,
    withPassword(address, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options }),
  );
  // Connection errors are reported by the health checks and BullMQ's own events; without a
  // listener ioredis would print each reconnect attempt as an unhandled error.
  connection.on('error', () => undefined);
  return connection;
}

/** For one-shot commands (the CLI): fail fast when Redis is down instead of waiting for ever. */
export function createCommandConnection(address: RedisAddress): Redis {
  const connection = new Redis(
    address.url,
    withPassword(address, {
      maxRetriesPerRequest: 1,
      connectTimeout: 3_000,
      retryStrategy: (times) => (times > 2 ? null : 200),
      lazyConnect: true,
    }),
  );
  connection.on('error', () => undefined);
  return connection;
}

/**
 * Redis's answers to a missing or wrong password (requirepass or ACL). ioredis rejects the
 * pending commands with them, then reconnects and fails the same way for ever: a caller that
 * waits for Redis must stop on these instead of waiting.
 */
const authReplies = /\b(?:NOAUTH|WRONGPASS)\b|invalid password|AUTH <password> called without any password/i;

/** REDIS_AUTH_FAILED for an authentication error, undefined for anything else. */
export function redisAuthFailure(error: unknown, url: string): BackupError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (!authReplies.test(message)) return undefined;
  return new BackupError(
    'REDIS_AUTH_FAILED',
    `Redis at ${redactUrl(url)} refused the login (${message.split('\n')[0]}); check REDIS_PASSWORD_FILE, REDIS_PASSWORD or the password in REDIS_URL`,
    { cause: error },
  );
}
