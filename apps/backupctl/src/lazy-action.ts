import type { Handler } from './action.js';

/**
 * A command's action, loaded when the command runs: `backupctl --help` and a listing that needs no
 * bucket must not pay for loading BullMQ, ioredis, pg and the AWS SDK (issue 13: start in under
 * 300 ms). The command modules and `action.ts` (which builds the context) are imported on first use.
 */
export function lazyAction<A extends unknown[]>(
  load: () => Promise<Handler<A>>,
): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    const [{ action }, handler] = await Promise.all([import('./action.js'), load()]);
    await action(handler)(...args);
  };
}
