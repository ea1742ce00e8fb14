import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { renewedHold } from './renewed-hold.js';
import type { HeldLock } from './target-lock.js';

// Expiry scores come from Redis's own clock, so that workers whose clocks disagree still agree on
// which holder is dead. Holders whose expiry passed are dropped before counting.
const ACQUIRE_SCRIPT = `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
return 1`;
// 0 when the member is gone: its expiry passed and another holder's acquire dropped it.
const RENEW_SCRIPT = `
if not redis.call('zscore', KEYS[1], ARGV[2]) then return 0 end
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zadd', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[2])
return 1`;

/**
 * Counting semaphores in Redis, shared by every worker on every host: at most `limit` holders of a
 * pool at once. One sorted-set member per holder, scored by its expiry and renewed while held, so a
 * worker that dies frees its slot within `ttlMs`. Two uses: the fleet-wide drill budget
 * (BACKUP_DRILL_CONCURRENCY, pool `drills`) and each server's dump budget
 * (BACKUP_SERVER_CONCURRENCY, pool `servers:<name>`).
 *
 * Why a semaphore rather than a queue per budget with `setGlobalConcurrency`: every job stays in the
 * one `backups` queue, so backupctl (jobs, retry, --wait), Bull Board, the failure alerts and the
 * run logs need nothing new. And the budget belongs to the server being read or written, not to
 * the workers: other jobs keep the whole BACKUP_CONCURRENCY while these wait for a slot.
 */
export class Slots {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = 30_000,
  ) {}

  keyFor(pool: string): string {
    return `${this.prefix}:${pool}:slots`;
  }

  /** How many holders the pool has now (expired holders excluded). */
  async holders(pool: string): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    return this.redis.zcount(this.keyFor(pool), `(${now}`, '+inf');
  }

  waitersKeyFor(pool: string): string {
    return `${this.prefix}:${pool}:waiters`;
  }

  /**
   * Notes that `jobId` waits for a slot of the pool, first come first served (a job noted twice
   * keeps its first place). The set expires a day after its last change: a pool nobody waits for
   * any more leaves nothing behind.
   */
  async addWaiter(pool: string, jobId: string): Promise<void> {
    const key = this.waitersKeyFor(pool);
    await this.redis.multi().zadd(key, 'NX', Date.now(), jobId).pexpire(key, 86_400_000).exec();
  }

  async removeWaiter(pool: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.waitersKeyFor(pool), jobId);
  }

  /** Takes the longest-waiting job of the pool off the list; undefined when nobody waits. */
  async nextWaiter(pool: string): Promise<string | undefined> {
    const popped = await this.redis.zpopmin(this.waitersKeyFor(pool));
    return popped[0];
  }

  /** Takes a slot of the pool if fewer than `limit` are held; undefined when the budget is spent. */
  async tryAcquire(pool: string, limit: number): Promise<HeldLock | undefined> {
    const key = this.keyFor(pool);
    const token = randomBytes(16).toString('hex');
    const got = await this.redis.eval(ACQUIRE_SCRIPT, 1, key, String(limit), String(this.ttlMs), token);
    if (got !== 1) return undefined;
    return renewedHold({
      key,
      ttlMs: this.ttlMs,
      renew: async () => (await this.redis.eval(RENEW_SCRIPT, 1, key, String(this.ttlMs), token)) === 1,
      release: () => this.redis.zrem(key, token),
    });
  }
}
