import { type BackupConfig, BackupError, redactUrl } from '@pgbackup/backup-core';
import { Redis, type RedisOptions } from 'ioredis';
import { SentinelRedis } from './sentinel-redis.js';

/**
 * Where Redis is and how to log in: `config.redis` (the password is REDIS_PASSWORD[_FILE]; with
 * `sentinel` set, `url` only names the group for logs and the sentinels are dialled instead).
 */
export type RedisAddress = Pick<BackupConfig['redis'], 'url' | 'password' | 'sentinel'>;

/**
 * The password goes to ioredis as an option, never into the URL: the URL is what gets logged
 * (redacted) and shown in errors. A password in the URL itself still works (ioredis reads it);
 * the configuration refuses both at once.
 */
function withPassword(address: RedisAddress, options: RedisOptions): RedisOptions {
  return address.password === undefined ? options : { ...options, password: address.password };
}

/**
 * Sentinel: every (re)connection asks the sentinels for the primary of the group and checks the
 * node's role. `failoverDetector` subscribes to `+switch-master` so that a connection moves at the
 * switch; without it ioredis moves only when its socket closes, and an old primary that is still
 * reachable keeps taking writes for seconds after the switch, writes the new primary never sees.
 * TLS (REDIS_SENTINEL_TLS) covers the sentinels and the data nodes, with the system's CAs and
 * NODE_EXTRA_CA_CERTS, like rediss://.
 */
function sentinelOptions(sentinel: NonNullable<RedisAddress['sentinel']>): RedisOptions {
  return {
    sentinels: sentinel.nodes.map(({ host, port }) => ({ host, port })),
    name: sentinel.name,
    failoverDetector: true,
    ...(sentinel.password === undefined ? {} : { sentinelPassword: sentinel.password }),
    ...(sentinel.tls ? { sentinelTLS: {}, tls: {}, enableTLSForSentinelMode: true } : {}),
  };
}

function connect(address: RedisAddress, options: RedisOptions): Redis {
  const connection = address.sentinel
    ? new SentinelRedis(withPassword(address, { ...sentinelOptions(address.sentinel), ...options }))
    : new Redis(address.url, withPassword(address, options));
  // Connection errors are reported by the health checks and BullMQ's own events; without a
  // listener ioredis would print each reconnect attempt as an unhandled error.
  connection.on('error', () => undefined);
  return connection;
}

/**
 * A Redis connection as BullMQ requires it: `maxRetriesPerRequest: null` so that blocking
 * commands wait through a Redis restart or a failover instead of failing the worker. Never a
 * keyPrefix: BullMQ's own `prefix` option does that.
 */
export function createRedisConnection(address: RedisAddress, options: RedisOptions = {}): Redis {
  return connect(address, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

/** For one-shot commands (the CLI): fail fast when Redis is down instead of waiting for ever. */
export function createCommandConnection(address: RedisAddress): Redis {
  return connect(address, {
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    retryStrategy: (times) => (times > 2 ? null : 200),
    // With every sentinel unreachable, give up like a plain connection would.
    sentinelRetryStrategy: (times) => (times > 2 ? null : 200),
    lazyConnect: true,
  });
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
    `Redis at ${redactUrl(url)} refused the login (${message.split('\n')[0]}); ${passwordSources(url)}`,
    { cause: error },
  );
}

function passwordSources(url: string): string {
  return url.startsWith('sentinel://')
    ? 'check REDIS_PASSWORD_FILE or REDIS_PASSWORD (data nodes) and REDIS_SENTINEL_PASSWORD_FILE or REDIS_SENTINEL_PASSWORD (sentinels)'
    : 'check REDIS_PASSWORD_FILE, REDIS_PASSWORD or the password in REDIS_URL';
}
