import type { ChainableCommander, Redis } from 'ioredis';
import { QUEUE_NAME } from './names.js';

/** What the keys of one kind cost: `MEMORY USAGE` summed over them. */
export interface KeyKindUsage {
  /**
   * `job hash: <job name>` and `job log: <job name>` for a job's record and its log lines;
   * `queue: <key>` for BullMQ's own keys of the queue (`repeat:<id>` one per job scheduler,
   * `de:<id>` one per deduplication id); the service's own keys with their variable part named
   * (`discovery:<server>:present`, `alerts:stale:<target>`, ...).
   */
  kind: string;
  keys: number;
  bytes: number;
}

/** The service's own key families: the variable segment (a target or server name) is named. */
const serviceFamilies: ReadonlyArray<[RegExp, string]> = [
  [/^discovery:.+:(present|vanished)$/, 'discovery:<server>:$1'],
  [/^alerts:([a-z-]+):.+$/, 'alerts:$1:<target>'],
  [/^locks:target:.+$/, 'locks:target:<target>'],
  [/^servers:[^:]+:(.+)$/, 'servers:<server>:$1'],
];

/**
 * `MEMORY USAGE` of every key under `prefix`, by kind, the heaviest first: what each target, job
 * and schedule costs Redis (issue 15's budget is 10 KB per target). Reads every key once (SCAN,
 * then one MEMORY USAGE each, exact: SAMPLES 0), so it is for tests, probes and diagnosis, not a
 * hot path. A job is told from BullMQ's own keys by the queue's state lists and sets, since a
 * scheduler's job id (`repeat:<scheduler>:<time>`) looks like one of BullMQ's keys.
 */
export async function redisMemoryByKind(redis: Redis, prefix: string): Promise<KeyKindUsage[]> {
  const queuePrefix = `${prefix}:${QUEUE_NAME}:`;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');

  const jobIds = new Set<string>();
  for (const state of ['completed', 'failed', 'delayed', 'prioritized', 'waiting-children'])
    for (const id of await redis.zrange(`${queuePrefix}${state}`, 0, -1)) jobIds.add(id);
  for (const state of ['wait', 'active', 'paused'])
    for (const id of await redis.lrange(`${queuePrefix}${state}`, 0, -1)) jobIds.add(id);

  // Sent together: one round trip for every key's size, one for every job's name.
  const sizes = await answers(redis, keys, (pipeline, key) => pipeline.memory('USAGE', key, 'SAMPLES', 0));
  const jobNames = new Map<string, string>();
  const ids = [...jobIds];
  const names = await answers(redis, ids, (pipeline, id) => pipeline.hget(`${queuePrefix}${id}`, 'name'));
  for (const [index, id] of ids.entries()) jobNames.set(id, (names[index] as string | null) ?? '?');

  const kinds = new Map<string, KeyKindUsage>();
  for (const [index, key] of keys.entries()) {
    const bytes = Number(sizes[index] ?? 0);
    let kind: string;
    if (key.startsWith(queuePrefix)) {
      const rest = key.slice(queuePrefix.length);
      const id = rest.endsWith(':logs') ? rest.slice(0, -':logs'.length) : rest;
      if (jobIds.has(id)) {
        kind = `job ${rest === id ? 'hash' : 'log'}: ${jobNames.get(id)}`;
      } else {
        kind = `queue: ${rest.replace(/^(repeat|de):.*$/, '$1:<id>')}`;
      }
    } else {
      const rest = key.slice(prefix.length + 1);
      const family = serviceFamilies.find(([pattern]) => pattern.test(rest));
      kind = family ? rest.replace(family[0], family[1]) : rest;
    }
    const usage = kinds.get(kind) ?? { kind, keys: 0, bytes: 0 };
    usage.keys++;
    usage.bytes += bytes;
    kinds.set(kind, usage);
  }
  return [...kinds.values()].sort((a, b) => b.bytes - a.bytes);
}

/** Each item's command sent in one pipeline; the answers in order (a failed command throws). */
async function answers<T>(
  redis: Redis,
  items: readonly T[],
  add: (pipeline: ChainableCommander, item: T) => unknown,
): Promise<unknown[]> {
  if (items.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const item of items) add(pipeline, item);
  return ((await pipeline.exec()) ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
