import { harness, uniquePrefix, waitFor } from '@pgbackup/testkit';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { TargetLocks } from './target-lock.js';

const redis = new Redis(harness().redisUrl);

it('is exclusive, renewed while held, and free again once released', async () => {
  const locks = new TargetLocks(redis, uniquePrefix(), 300);
  const first = await locks.tryAcquire('app');
  expect(first).toBeDefined();
  expect(await locks.tryAcquire('app')).toBeUndefined();
  // Renewed past its time to live.
  await new Promise((resolve) => setTimeout(resolve, 700));
  expect(await locks.tryAcquire('app')).toBeUndefined();
  expect(first!.held).toBe(true);
  await first!.release();
  const second = await locks.tryAcquire('app');
  expect(second).toBeDefined();
  await second!.release();
});

it('tells its holder when the lock was lost to someone else', async () => {
  const locks = new TargetLocks(redis, uniquePrefix(), 300);
  const lock = await locks.tryAcquire('app');
  let lost = 0;
  lock!.onLost(() => {
    lost += 1;
  });
  // As after a Redis outage longer than the lock: it expired and another worker took it.
  await redis.set(locks.keyFor('app'), 'another-holder');
  await waitFor('the loss to be noticed', async () => lost === 1, 5_000);
  expect(lock!.held).toBe(false);
  // Releasing a lost lock leaves the new holder's lock alone.
  await lock!.release();
  expect(await redis.get(locks.keyFor('app'))).toBe('another-holder');
  redis.disconnect();
});
