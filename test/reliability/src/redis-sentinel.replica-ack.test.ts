import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type DumpDocument, jsonOf, runCli } from '@pgbackup/backupctl/testing';
import { SentinelTopology, uniquePrefix, waitFor } from '@pgbackup/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

// Redis replicates asynchronously: a job the primary acknowledged is lost if it dies before the
// replica has it. backupctl waits (at most 2 s) for a replica to confirm each enqueue behind
// Sentinel, and says so when none did, instead of reporting the job as safely queued.
let topology: SentinelTopology;
let dir: string;

beforeAll(async () => {
  topology = await SentinelTopology.start();
  dir = await mkdtemp(path.join(os.tmpdir(), 'pgbackup-replica-ack-'));
}, 60_000);

afterAll(async () => {
  // Never leave a stopped process behind, whatever failed.
  for (const node of topology?.nodes ?? []) if (node.pid) process.kill(node.pid, 'SIGCONT');
  await topology?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('backupctl dump behind Sentinel is silent when a replica confirms the job, and warns when none does', async () => {
  const prefix = uniquePrefix();
  const env = {
    REDIS_SENTINELS: topology.sentinelList,
    REDIS_SENTINEL_NAME: 'pgbackup',
    BACKUP_QUEUE_PREFIX: prefix,
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/app',
    BACKUP_DIR: path.join(dir, 'backups'),
    BACKUP_LOG_DIR: path.join(dir, 'logs'),
  };
  const confirmed = await runCli(env, ['dump', '--json']);
  expect(confirmed.code, confirmed.stderr).toBe(0);
  expect(confirmed.stderr).not.toContain('no replica confirmed');

  await topology.healthy();
  const primaryPort = await topology.primaryPort();
  const replica = topology.nodes.find((node) => node.port !== primaryPort)!;
  const primary = new Redis(primaryPort, '127.0.0.1');
  try {
    // A replica that stops answering (a stalled host, a network partition) confirms nothing.
    process.kill(replica.pid!, 'SIGSTOP');
    try {
      // The first job is still waiting: a dump of the same target would join it, so use another prefix.
      const unconfirmed = await runCli({ ...env, BACKUP_QUEUE_PREFIX: `${prefix}-b` }, ['dump', '--json']);
      expect(unconfirmed.code, unconfirmed.stderr).toBe(0);
      expect(unconfirmed.stderr).toContain('no replica confirmed the job within 2 s');
      // The job is enqueued all the same, on the primary: the warning says where it stands.
      const [job] = jsonOf<DumpDocument>(unconfirmed).jobs;
      expect(await primary.exists(`${prefix}-b:backups:${job!.id}`)).toBe(1);
    } finally {
      process.kill(replica.pid!, 'SIGCONT');
    }
    // Once the replica is back it catches up: what was on the primary only reaches it.
    const back = new Redis(replica.port, '127.0.0.1');
    try {
      await waitFor(
        'the replica to catch up',
        async () => (await back.keys(`${prefix}-b:backups:*`)).length > 0,
        30_000,
      );
    } finally {
      back.disconnect();
    }
  } finally {
    primary.disconnect();
  }
}, 120_000);
