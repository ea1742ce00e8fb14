import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { connectedWorkers } from './schedule-state.js';

// Only getWorkers is read: a stand-in for what BullMQ answers in each case.
const answering = (getWorkers: () => Promise<Array<{ name: string }>>) =>
  ({ getWorkers }) as unknown as Queue;

describe('connectedWorkers', () => {
  it('counts the workers BullMQ lists', async () => {
    expect(await connectedWorkers(answering(async () => [{ name: 'a' }, { name: 'b' }]))).toBe(2);
    expect(await connectedWorkers(answering(async () => []))).toBe(0);
  });

  it('is unknown, not one worker, when Redis refuses CLIENT LIST (BullMQ answers with a stand-in)', async () => {
    expect(
      await connectedWorkers(answering(async () => [{ name: 'GCP does not support client list' }])),
    ).toBeUndefined();
    expect(
      await connectedWorkers(
        answering(async () => {
          throw new Error('NOPERM this user has no permissions to run the client command');
        }),
      ),
    ).toBeUndefined();
  });
});
