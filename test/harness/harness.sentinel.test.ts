import { expect, it } from 'vitest';
import { SentinelTopology } from './redis-sentinel.js';

it('starts a Sentinel group (1 primary, 1 replica, 3 sentinels, passwords on both), fails it over on kill -9 and takes the old primary back as a replica', async () => {
  const topology = await SentinelTopology.start({ password: 'data-pw', sentinelPassword: 'sentinel-pw' });
  try {
    const first = await topology.primaryPort();
    expect(topology.nodes.map((n) => n.port)).toContain(first);
    await topology.node(first).kill();
    const second = topology.nodes.find((n) => n.port !== first)!.port;
    await topology.waitForPrimary(second);
    await topology.node(first).restart({ replicaOf: second });
    await topology.healthy();
    expect((await topology.replication(first)).role).toBe('slave');
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${topology.logs()}`);
  } finally {
    await topology.destroy();
  }
}, 90_000);
