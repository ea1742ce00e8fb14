import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { renewedHold } from './renewed-hold.js';

// Long enough that a busy machine's late timers do not look like a lost hold.
const ttlMs = 1_500;

it('stays held while renewals are confirmed', async () => {
  let renewals = 0;
  const hold = renewedHold({
    key: 'k',
    ttlMs,
    renew: async () => {
      renewals++;
      return true;
    },
    release: async () => undefined,
  });
  let lost = false;
  hold.onLost(() => {
    lost = true;
  });
  await sleep(2 * ttlMs);
  expect(renewals).toBeGreaterThanOrEqual(2);
  expect(lost).toBe(false);
  expect(hold.held).toBe(true);
  await hold.release();
  expect(hold.held).toBe(false);
});

it('tells its holder it may be lost once no renewal was confirmed for its time to live, while Redis does not answer', async () => {
  // Redis unreachable: the client queues each command and never settles it.
  const hold = renewedHold({
    key: 'k',
    ttlMs,
    renew: () => new Promise<boolean>(() => undefined),
    release: async () => undefined,
  });
  const started = Date.now();
  const lostAfter = await new Promise<number>((resolve) => hold.onLost(() => resolve(Date.now() - started)));
  expect(hold.held).toBe(false);
  // Due a sixth of the time to live before the lock can expire in Redis (timers may fire late on
  // a busy machine, so only the lower bound is exact).
  expect(lostAfter).toBeGreaterThanOrEqual(ttlMs - ttlMs / 6 - 20);
});

it('tells its holder at once when a renewal finds the hold gone, and only once', async () => {
  let calls = 0;
  const hold = renewedHold({ key: 'k', ttlMs, renew: async () => false, release: async () => undefined });
  hold.onLost(() => {
    calls++;
  });
  await sleep(ttlMs * 1.5);
  expect(calls).toBe(1);
  expect(hold.held).toBe(false);
});
