import { createRedisConnection } from '@pgbackup/queue';
import { SentinelTopology, waitFor } from '@pgbackup/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordResults } from './support/results.js';

// Many clients make the race likely: before the fix 35 of 80 ended for good at the first failover.
const CLIENTS = 80;
let topology: SentinelTopology;
const clients: Redis[] = [];

beforeAll(async () => {
  topology = await SentinelTopology.start({ password: 'data-pw', sentinelPassword: 'sentinel-pw' });
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await topology?.destroy();
});

it(`${CLIENTS} Sentinel clients of the connection factory (half of them BullMQ-style duplicates) all follow two failovers; none gives up`, async () => {
  const address = {
    url: 'sentinel://(the group)',
    password: 'data-pw',
    sentinel: {
      nodes: topology.sentinelList
        .split(',')
        .map((item) => ({ host: '127.0.0.1', port: Number(item.split(':')[1]) })),
      name: 'pgbackup',
      password: 'sentinel-pw',
      tls: false,
    },
  };
  for (let i = 0; i < CLIENTS / 2; i++) {
    const client = createRedisConnection(address);
    const duplicate = client.duplicate();
    duplicate.on('error', () => undefined);
    clients.push(client, duplicate);
  }
  const ended = new Set<number>();
  for (const [i, client] of clients.entries()) client.on('end', () => ended.add(i));
  await waitFor('every client ready', async () => clients.every((client) => client.status === 'ready'));
  const rows: Array<Record<string, unknown>> = [];
  for (let round = 0; round < 2; round++) {
    await topology.healthy();
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, 6_500)); // 2 × failover-timeout
    const old = await topology.primaryPort();
    const next = topology.nodes.find((node) => node.port !== old)!.port;
    const killedAt = Date.now();
    await topology.node(old).kill();
    await topology.waitForPrimary(next);
    await waitFor(
      'every client to answer from the new primary',
      async () => {
        const roles = await Promise.all(
          clients.map((client) =>
            Promise.race([
              client.call('ROLE').then(
                (reply) => (reply as string[])[0],
                () => 'error',
              ),
              new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 1_000)),
            ]),
          ),
        );
        return roles.every((role) => role === 'master');
      },
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; ended: ${[...ended].join(',')}`);
    });
    rows.push({ round, allFollowedMs: Date.now() - killedAt, ended: ended.size });
    expect(ended.size).toBe(0);
    await topology.node(old).restart({ replicaOf: next });
  }
  recordResults('redis-sentinel-clients', { clients: CLIENTS, rows });
}, 120_000);
