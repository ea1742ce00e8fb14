import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type DumpDocument, jsonOf, runCli } from '@pgbackup/backupctl/testing';
import { loadDashboardConfig, type RunningDashboard, startDashboard } from '@pgbackup/dashboard';
import { SentinelTopology, uniquePrefix, waitFor } from '@pgbackup/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

// Redis replicates asynchronously: a job the primary acknowledged is lost if it dies before the
// replica has it. backupctl and the dashboard's actions wait (at most 2 s) for a replica to
// confirm each enqueue behind Sentinel, and say so when none did, instead of reporting the job
// as safely queued.
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

it('the dashboard’s actions behind Sentinel: no warning when a replica confirms the job, a warning on the page when none does', async () => {
  await topology.healthy();
  const prefix = uniquePrefix();
  const loaded = loadDashboardConfig({
    env: {
      REDIS_SENTINELS: topology.sentinelList,
      REDIS_SENTINEL_NAME: 'pgbackup',
      BACKUP_QUEUE_PREFIX: prefix,
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/app',
      BACKUP_TARGET_NAME: 'app',
      // Never reached: the drill job is only enqueued, no worker runs.
      BACKUP_DRILL_DATABASE_URL: 'postgresql://postgres@127.0.0.1:2/postgres',
      BACKUP_DIR: path.join(dir, 'dashboard-backups'),
      BACKUP_LOG_DIR: path.join(dir, 'dashboard-logs'),
      DASHBOARD_USER: 'admin',
      DASHBOARD_PASSWORD: 'operator-secret',
      LOG_LEVEL: 'silent',
    },
  });
  const dashboard: RunningDashboard = await startDashboard(
    { ...loaded, dashboard: { ...loaded.dashboard, port: 0 } },
    { announce: () => undefined },
  );
  const authorization = `Basic ${Buffer.from('admin:operator-secret').toString('base64')}`;
  const get = async (where: string) => {
    const response = await fetch(new URL(where, dashboard.url), { headers: { authorization } });
    expect(response.status).toBe(200);
    return response.text();
  };
  const post = async (action: string, token: string) => {
    const response = await fetch(new URL(`targets/app/actions/${action}`, dashboard.url), {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: token }).toString(),
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    return new URL(response.headers.get('location')!, dashboard.url);
  };
  const primary = new Redis(await topology.primaryPort(), '127.0.0.1');
  try {
    const token = /name="csrf" value="([^"]+)"/.exec(await get('targets/app'))?.[1];
    expect(token).toBeDefined();

    const confirmed = await post('backup', token!);
    expect(confirmed.searchParams.get('replica')).toBeNull();
    const confirmedPage = await get(confirmed.pathname + confirmed.search);
    expect(confirmedPage).toContain('Backup job');
    expect(confirmedPage).not.toContain('no replica confirmed');

    const replica = topology.nodes.find((node) => node.port !== primary.options.port)!;
    process.kill(replica.pid!, 'SIGSTOP');
    let unconfirmed: URL;
    try {
      unconfirmed = await post('drill', token!);
    } finally {
      process.kill(replica.pid!, 'SIGCONT');
    }
    expect(unconfirmed.searchParams.get('replica')).toBe('unconfirmed');
    const warned = await get(unconfirmed.pathname + unconfirmed.search);
    expect(warned).toContain('Drill job');
    expect(warned).toContain(
      'no replica confirmed the job within 2 s: it is on the Redis primary only, and a failover now would lose it',
    );
    // Enqueued all the same, on the primary: the warning says where it stands.
    const jobId = unconfirmed.searchParams.get('job')!;
    expect(await primary.exists(`${prefix}:backups:${jobId}`)).toBe(1);
  } finally {
    primary.disconnect();
    await dashboard.close();
  }
}, 120_000);
