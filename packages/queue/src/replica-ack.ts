import type { Redis } from 'ioredis';

/** How long a manual enqueue waits for a replica to confirm it. */
export const replicaAckTimeoutMs = 2_000;

/**
 * How many replicas hold every write this connection has made so far (Redis WAIT 1), waiting at
 * most `timeoutMs`. Redis replicates asynchronously: a job the primary acknowledged is lost if the
 * primary dies before passing it on and Sentinel promotes the replica (docs/deployment.md, "Redis
 * Sentinel"). Only meaningful with replicas: on a lone Redis, WAIT just waits out its timeout.
 */
export async function replicasConfirming(
  connection: Redis,
  timeoutMs = replicaAckTimeoutMs,
): Promise<number> {
  return connection.wait(1, timeoutMs);
}
