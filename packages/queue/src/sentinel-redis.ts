import { Redis, type RedisOptions } from 'ioredis';

interface WithFailoverDetector {
  connector?: { failoverDetector?: { cleanup(): void } | null };
}

/**
 * An ioredis client for Sentinel that survives its own failover detection.
 *
 * ioredis 5.9's `failoverDetector` keeps the previous connection's `+switch-master` subscription
 * alive after that connection has closed, until the next connection succeeds. When the switch is
 * announced while the client is reconnecting (asking a sentinel for the primary), the old
 * subscription stops the connector mid-way, the connection attempt fails with "Connection is
 * closed." and ioredis gives up for good (status `end`): no further reconnect, every later command
 * fails. Seen in `redis-sentinel.test.ts` (a worker's /healthz and the dashboard stuck at 503), and
 * reproduced with 80 idle clients, 35 of which ended at the first failover.
 *
 * The fix: drop the stale subscription as soon as the connection closes, so only the subscription
 * of a live connection can announce a switch. `duplicate()` is overridden because BullMQ runs its
 * blocking commands on duplicates. `connector` is internal to ioredis: if a release renames it,
 * this does nothing and the failure above may return (the Sentinel reliability test would show it).
 */
export class SentinelRedis extends Redis {
  constructor(options: RedisOptions) {
    super(options);
    this.on('close', () => {
      (this as unknown as WithFailoverDetector).connector?.failoverDetector?.cleanup();
    });
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new SentinelRedis({ ...this.options, ...override });
  }
}
