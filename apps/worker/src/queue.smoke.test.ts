import { harness, uniquePrefix } from '@pgbackup/testkit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

it('runs a BullMQ job end to end on the private Redis under its own prefix', async () => {
  const connection = new Redis(harness().redisUrl, { maxRetriesPerRequest: null });
  closers.push(async () => connection.quit());
  const prefix = uniquePrefix();
  const queue = new Queue('smoke', { connection, prefix });
  closers.push(() => queue.close());
  const done = new Promise<unknown>((resolve, reject) => {
    const worker = new Worker('smoke', async (job) => job.data.n * 2, { connection, prefix });
    closers.push(() => worker.close());
    worker.on('completed', (_job, result) => resolve(result));
    worker.on('failed', (_job, error) => reject(error));
  });
  await queue.add('double', { n: 21 });
  expect(await done).toBe(42);
  expect(await connection.keys(`${prefix}:smoke:*`)).not.toHaveLength(0);
});
