import { harness, uniquePrefix, waitFor } from '@pgbackup/testkit';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { Slots } from './slots.js';

const redis = new Redis(harness().redisUrl);
afterAll(() => redis.disconnect());

it('gives at most `limit` slots per pool, pools apart, and a released slot back', async () => {
  const slots = new Slots(redis, uniquePrefix(), 5_000);
  const first = await slots.tryAcquire('servers:a', 2);
  const second = await slots.tryAcquire('servers:a', 2);
  expect(first).toBeDefined();
  expect(second).toBeDefined();
  expect(await slots.tryAcquire('servers:a', 2)).toBeUndefined();
  // Another pool has its own budget.
  const other = await slots.tryAcquire('servers:b', 2);
  expect(other).toBeDefined();
  expect(await slots.holders('servers:a')).toBe(2);
  await first!.release();
  expect(await slots.holders('servers:a')).toBe(1);
  const third = await slots.tryAcquire('servers:a', 2);
  expect(third).toBeDefined();
  for (const slot of [second, third, other]) await slot!.release();
  expect(await slots.holders('servers:a')).toBe(0);
});

it("frees a dead holder's slot once its expiry passes, and tells a holder that lost its slot", async () => {
  const slots = new Slots(redis, uniquePrefix(), 300);
  const slot = await slots.tryAcquire('drills', 1);
  let lost = 0;
  slot!.onLost(() => {
    lost += 1;
  });
  // As after a Redis outage longer than the slot's expiry: the holder's member is gone.
  await redis.del(slots.keyFor('drills'));
  await waitFor('the loss to be noticed', async () => lost === 1, 5_000);
  expect(slot!.held).toBe(false);
  const next = await slots.tryAcquire('drills', 1);
  expect(next).toBeDefined();
  await next!.release();
  // A holder that stops renewing (a dead worker) no longer counts once its expiry has passed.
  const dead = new Slots(redis, uniquePrefix(), 300);
  await redis.zadd(dead.keyFor('drills'), Date.now() - 1_000, 'a-dead-worker');
  const taken = await dead.tryAcquire('drills', 1);
  expect(taken).toBeDefined();
  await taken!.release();
});
