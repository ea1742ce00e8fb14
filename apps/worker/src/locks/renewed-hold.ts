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
 * `ttlMs`. A renewal that finds it gone tells the holder once (onLost); one that cannot reach Redis
 * changes nothing: the hold may well still be ours, and the next renewal will tell.
 */
export function renewedHold(options: RenewedHoldOptions): HeldLock {
  let held = true;
  const listeners: Array<() => void> = [];
  const timer = setInterval(
    () => {
      options
        .renew()
        .then((renewed) => {
          if (renewed || !held) return;
          held = false;
          clearInterval(timer);
          for (const listener of listeners) listener();
        })
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
      listeners.push(listener);
    },
    async release() {
      clearInterval(timer);
      held = false;
      await options.release().catch(() => undefined);
    },
  };
}
