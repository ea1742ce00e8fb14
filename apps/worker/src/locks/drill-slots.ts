import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

// Expiry scores come from Redis's own clock, so that workers whose clocks disagree still agree on
// which holder is dead. Holders whose expiry passed are dropped before counting.
const ACQUIRE_SCRIPT = `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
return 1`;
const RENEW_SCRIPT = `
if not redis.call('zscore', KEYS[1], ARGV[2]) then return 0 end
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zadd', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
return 1`;

export interface HeldSlot {
  release(): Promise<void>;
}

/**
 * The fleet-wide drill budget (BACKUP_DRILL_CONCURRENCY): a counting semaphore in Redis, one
 * sorted-set member per running drill, scored by its expiry and renewed while held, so a worker
 * that dies frees its slot within `ttlMs`.
 *
 * Why a semaphore rather than a queue of its own with `setGlobalConcurrency`: drills stay jobs of
 * the one `backups` queue, so backupctl (jobs, retry, --wait), Bull Board, the failure alerts and
 * the run logs need nothing new; a second queue would have to be taught to each of them. And the
 * budget is the drill server's, not the workers': dumps keep the whole BACKUP_CONCURRENCY while
 * drills wait for a slot (delayed, no attempt spent), like a busy target lock.
 */
export class DrillSlots {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limit: number,
    private readonly ttlMs = 30_000,
  ) {}

  get key(): string {
    return `${this.prefix}:drills:slots`;
  }

  /** How many drills hold a slot now (expired holders excluded). */
  async holders(): Promise<number> {
    const now = Number((await this.redis.time())[0]) * 1000;
    return this.redis.zcount(this.key, `(${now}`, '+inf');
  }

  /** Takes a slot if one is free; undefined when the budget is spent. */
  async tryAcquire(): Promise<HeldSlot | undefined> {
    const token = randomBytes(16).toString('hex');
    const got = await this.redis.eval(
      ACQUIRE_SCRIPT,
      1,
      this.key,
      String(this.limit),
      String(this.ttlMs),
      token,
    );
    if (got !== 1) return undefined;
    const timer = setInterval(
      () => {
        // Redis unreachable: the slot may well still be ours; the next renewal will tell.
        this.redis.eval(RENEW_SCRIPT, 1, this.key, String(this.ttlMs), token).catch(() => undefined);
      },
      Math.floor(this.ttlMs / 3),
    );
    timer.unref();
    return {
      release: async () => {
        clearInterval(timer);
        await this.redis.zrem(this.key, token).catch(() => undefined);
      },
    };
  }
}
