import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { renewedHold } from './renewed-hold.js';

// Fake timers: the deadline is a matter of the clock, and a busy machine's late timers must not
// decide these tests.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const ttlMs = 30_000;

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
  const lost = vi.fn();
  hold.onLost(lost);
  await vi.advanceTimersByTimeAsync(5 * ttlMs);
  expect(renewals).toBe(15);
  expect(lost).not.toHaveBeenCalled();
  expect(hold.held).toBe(true);
  await hold.release();
  expect(hold.held).toBe(false);
  await vi.advanceTimersByTimeAsync(2 * ttlMs);
  expect(lost).not.toHaveBeenCalled();
});

it('is lost a sixth of its time to live before it can expire, once no renewal was confirmed (Redis not answering)', async () => {
  // Redis unreachable: the client queues each command and never settles it.
  const hold = renewedHold({
    key: 'k',
    ttlMs,
    renew: () => new Promise<boolean>(() => undefined),
    release: async () => undefined,
  });
  const lost = vi.fn();
  hold.onLost(lost);
  await vi.advanceTimersByTimeAsync(ttlMs - ttlMs / 6 - 1);
  expect(lost).not.toHaveBeenCalled();
  await vi.advanceTimersByTimeAsync(1);
  expect(lost).toHaveBeenCalledTimes(1);
  expect(hold.held).toBe(false);
  // A holder that starts listening only now is told at once.
  const late = vi.fn();
  hold.onLost(late);
  expect(late).toHaveBeenCalledTimes(1);
});

it('counts the deadline from the last renewal Redis confirmed, sent when it was sent', async () => {
  let answer = true;
  const hold = renewedHold({
    key: 'k',
    ttlMs,
    renew: () => (answer ? Promise.resolve(true) : new Promise<boolean>(() => undefined)),
    release: async () => undefined,
  });
  const lost = vi.fn();
  hold.onLost(lost);
  // Renewed at 10 s and 20 s; Redis stops answering after that.
  await vi.advanceTimersByTimeAsync(20_000);
  answer = false;
  await vi.advanceTimersByTimeAsync(20_000 + ttlMs - ttlMs / 6 - 20_000 - 1);
  expect(lost).not.toHaveBeenCalled();
  await vi.advanceTimersByTimeAsync(1);
  expect(lost).toHaveBeenCalledTimes(1);
});

it('tells its holder at once when a renewal finds the hold gone, and only once', async () => {
  const hold = renewedHold({ key: 'k', ttlMs, renew: async () => false, release: async () => undefined });
  const lost = vi.fn();
  hold.onLost(lost);
  await vi.advanceTimersByTimeAsync(ttlMs / 3);
  expect(lost).toHaveBeenCalledTimes(1);
  await vi.advanceTimersByTimeAsync(3 * ttlMs);
  expect(lost).toHaveBeenCalledTimes(1);
  expect(hold.held).toBe(false);
});
