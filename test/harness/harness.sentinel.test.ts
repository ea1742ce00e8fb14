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
    // The old primary is back in the group. Usually as the replica; on a heavily loaded machine the
    // sentinels may have failed over once more since (a primary that missed its pings for 1 s), and
    // then it is the primary again with the other node replicating: the group is whole either way,
    // which healthy() has just checked (one primary, one replica in step, every sentinel agreeing).
    const roles = await Promise.all(
      topology.nodes.map(async (node) => (await topology.replication(node.port)).role),
    );
    expect(roles.sort()).toEqual(['master', 'slave']);
    const restarted = await topology.replication(first);
    if (restarted.role === 'slave') expect(Number(restarted.master_port)).toBe(await topology.primaryPort());
    else expect(Number((await topology.replication(second)).master_port)).toBe(first);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${topology.logs()}`);
  } finally {
    await topology.destroy();
  }
}, 90_000);
