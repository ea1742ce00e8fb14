import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { renewedHold } from './renewed-hold.js';

const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface HeldLock {
  readonly key: string;
  /** False once the lock was lost (Redis lost it or another holder took it after expiry). */
  readonly held: boolean;
  /** Called once if a renewal finds the lock gone or taken by another holder. */
  onLost(listener: () => void): void;
  release(): Promise<void>;
}

/**
 * One dump (or prune) per target at a time across every worker on every host: a Redis key with
 * a random token and a short expiry, renewed while held. A worker that dies stops renewing, so
 * the lock outlives no crash by more than `ttlMs`.
 */
export class TargetLocks {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs = 30_000,
  ) {}

  keyFor(target: string): string {
    return `${this.prefix}:locks:target:${target}`;
  }

  async isLocked(target: string): Promise<boolean> {
    return (await this.redis.exists(this.keyFor(target))) === 1;
  }

  /** Takes the lock if free; undefined when another run holds it. */
  async tryAcquire(target: string): Promise<HeldLock | undefined> {
    const key = this.keyFor(target);
    const token = randomBytes(16).toString('hex');
    const ok = await this.redis.set(key, token, 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') return undefined;
    return renewedHold({
      key,
      ttlMs: this.ttlMs,
      renew: async () => (await this.redis.eval(RENEW_SCRIPT, 1, key, token, String(this.ttlMs))) === 1,
      release: () => this.redis.eval(RELEASE_SCRIPT, 1, key, token),
    });
  }
}
