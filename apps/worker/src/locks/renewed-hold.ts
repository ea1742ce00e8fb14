import type { HeldLock } from './target-lock.js';

export interface RenewedHoldOptions {
  key: string;
  ttlMs: number;
  /** Extends the hold; resolves false when it is gone (expired and dropped, or taken by another). */
  renew: () => Promise<boolean>;
  /** Gives the hold back (only if still ours). */
  release: () => Promise<unknown>;
}

/**
 * Something held in Redis with an expiry (a target lock, a slot of a budget), renewed every third
 * of its time to live while held, so that a worker that dies stops renewing and frees it within
 * `ttlMs`. The holder is told once (onLost) when a renewal finds it gone, and also when no renewal
 * has been confirmed for long enough that it may have expired: the hold is surely ours only
 * until `ttlMs` after the last renewal that Redis confirmed was sent. A worker cut off from
 * Redis (whose commands wait for the connection rather than fail) would otherwise go on as the
 * holder while another worker, which still reaches Redis, takes the expired lock.
 */
export function renewedHold(options: RenewedHoldOptions): HeldLock {
  let held = true;
  let lost = false;
  const listeners: Array<() => void> = [];
  // Stops short of the expiry: the holder needs a moment to stop what it is doing.
  const margin = Math.floor(options.ttlMs / 6);
  const lose = () => {
    if (!held) return;
    held = false;
    lost = true;
    clearInterval(timer);
    clearTimeout(deadline);
    for (const listener of listeners) listener();
  };
  const deadlineAfter = (sentAt: number) => {
    const timeout = setTimeout(lose, Math.max(0, sentAt + options.ttlMs - margin - Date.now()));
    timeout.unref();
    return timeout;
  };
  let deadline = deadlineAfter(Date.now());
  const timer = setInterval(
    () => {
      const sentAt = Date.now();
      options
        .renew()
        .then((renewed) => {
          if (!held) return;
          if (!renewed) return lose();
          clearTimeout(deadline);
          deadline = deadlineAfter(sentAt);
        })
        // Redis unreachable: nothing is known; the deadline decides.
        .catch(() => undefined);
    },
    Math.floor(options.ttlMs / 3),
  );
  timer.unref();
  return {
    key: options.key,
    get held() {
      return held;
    },
    onLost(listener) {
      // Lost before anyone listened (the deadline passed while its holder waited on Redis).
      if (lost) listener();
      else listeners.push(listener);
    },
    async release() {
      clearInterval(timer);
      clearTimeout(deadline);
      held = false;
      await options.release().catch(() => undefined);
    },
  };
}
