import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listBackups } from '@pgbackup/backup-core';
import { createTestDatabase, freePort, SentinelTopology, waitFor } from '@pgbackup/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { catalogProblems } from './support/backup-dir.js';
import { writeConfigFile } from './support/config-file.js';
import { recordResults } from './support/results.js';
import { runBackupctl, spawnDashboardProcess } from './support/service-processes.js';
import { createStack, fastTakeover, jobLog, type Stack } from './support/stack.js';
import { descendantsNamed, type WorkerProcess } from './support/worker-process.js';

const debugEnv: Record<string, string> = process.env.SENTINEL_DEBUG ? { DEBUG: 'ioredis:*' } : {};
const ROUNDS = Number(process.env.RELIABILITY_SENTINEL_ROUNDS ?? 3);
const GROUP = 'pgbackup';
const FAILOVER_TIMEOUT_MS = 3_000;
// Distinctive, so that a leak into any output is found by a plain search.
const dataPassword = 'Dn4-distinctive-DATA-node-password';
const sentinelPassword = 'Sn8-distinctive-SENTINEL-password';
const dashboardPassword = 'dashboard-password-for-the-test';
// Daily, twelve hours away: never fires during the test.
const DORMANT = `0 0 ${(new Date().getUTCHours() + 12) % 24} * * *`;
// Fires all along: the scheduler must keep producing runs after each failover.
const TICKING = '*/5 * * * * *';

let topology: SentinelTopology;
let stack: Stack | undefined;
let dashboard: WorkerProcess | undefined;
let configDir: string;
const targets: Array<{ name: string; url: string; schedule: string }> = [];

beforeAll(async () => {
  topology = await SentinelTopology.start({
    name: GROUP,
    password: dataPassword,
    sentinelPassword,
    downAfterMs: 1_000,
    failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
  });
  // `big` dumps for about a second, so the primary dies while a dump runs.
  const big = await createTestDatabase('sbig');
  await big.query(
    `CREATE TABLE stream AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS v FROM generate_series(1, 400000) g`,
  );
  targets.push({ name: 'big', url: big.url, schedule: DORMANT });
  for (const name of ['small1', 'small2', 'tick']) {
    const db = await createTestDatabase(`s${name}`);
    await db.query(`CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g`);
    targets.push({ name, url: db.url, schedule: name === 'tick' ? TICKING : DORMANT });
  }
  configDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-reliability-sentinel-'));
}, 120_000);

afterAll(async () => {
  await dashboard?.kill('SIGKILL');
  await stack?.cleanup();
  await topology?.destroy();
  if (configDir) await fs.rm(configDir, { recursive: true, force: true });
});

/** GET with a deadline: a check that hangs counts as down. */
async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(3_000) });
  return { status: response.status, body: await response.text() };
}

const basic = { authorization: `Basic ${Buffer.from(`admin:${dashboardPassword}`).toString('base64')}` };

async function dashboardUp(base: string): Promise<boolean> {
  const ready = await get(`${base}/readyz`).catch(() => ({ status: 0, body: '' }));
  if (ready.status !== 200) return false;
  const metrics = await get(`${base}/metrics`, basic).catch(() => ({ status: 0, body: '' }));
  return /^pgbackup_redis_up 1$/m.test(metrics.body);
}

const lastHealth = new Map<string, string>();

async function workerHealthy(url: string): Promise<boolean> {
  const health = await get(`${url}/healthz`).catch((error: Error) => ({ status: 0, body: error.message }));
  lastHealth.set(url, `${health.status} ${health.body}`);
  return health.status === 200;
}

/** Milliseconds from `from` until `probe` holds (polled; the probe bounds its own waits). */
async function timeUntil(what: string, from: number, probe: () => Promise<boolean>, timeoutMs = 60_000) {
  await waitFor(what, probe, timeoutMs);
  return Date.now() - from;
}

it(`Sentinel: the primary is SIGKILLed ${ROUNDS} times under load; workers, backupctl and the dashboard follow the new primary without a restart, and no slot is backed up twice`, async () => {
  const configFile = await writeConfigFile(
    configDir,
    { verify: 'read', retention: 'daily=7,weekly=4,monthly=12,min=1000' },
    targets,
  );
  const redisEnv = {
    // The fixture's default REDIS_URL is unset (an empty variable counts as unset): with Sentinel
    // it is refused.
    REDIS_URL: '',
    REDIS_SENTINELS: topology.sentinelList,
    REDIS_SENTINEL_NAME: GROUP,
    REDIS_PASSWORD: dataPassword,
    REDIS_SENTINEL_PASSWORD: sentinelPassword,
  };
  stack = await createStack({
    BACKUP_CONFIG: configFile,
    ...redisEnv,
    BACKUP_CONCURRENCY: '2',
    BACKUP_ATTEMPTS: '5',
    BACKUP_BACKOFF: '500ms',
    ...fastTakeover,
  });
  expect(stack.config.redis.url).toBe(`sentinel://${topology.sentinelList}/${GROUP}`);
  const healthUrls: string[] = [];
  const workers: WorkerProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    workers.push(
      await stack.spawn({ BACKUP_HEALTH_PORT: String(port), BACKUP_HEALTH_HOST: '127.0.0.1', ...debugEnv }),
    );
    healthUrls.push(`http://127.0.0.1:${port}`);
  }
  const dashboardPort = await freePort();
  const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  dashboard = spawnDashboardProcess({
    ...stack.env,
    DASHBOARD_PORT: String(dashboardPort),
    DASHBOARD_HOST: '127.0.0.1',
    DASHBOARD_PASSWORD: dashboardPassword,
    ...debugEnv,
  });
  await waitFor('the dashboard to be ready', () => dashboardUp(dashboardUrl), 60_000).catch(
    (error: Error) => {
      throw new Error(`${error.message}; its output: ${dashboard?.output().slice(-2000)}`);
    },
  );

  const rows: Array<Record<string, unknown>> = [];
  const allIds: string[] = [];
  // Jobs that asynchronous replication lost while a worker was running them: that run still writes
  // its backup, and the job re-added under the same id (as an operator would) writes a second one.
  // Loss without WAIT is Redis's; the test records it rather than calling it a double run.
  const lostWhileActive = new Set<string>();
  let lastFailoverAt = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await topology.healthy();
    // A sentinel will not fail the same group over again within 2 × failover-timeout of its last
    // attempt: a precondition of the next kill, not an assertion.
    const spacing = lastFailoverAt + 2 * FAILOVER_TIMEOUT_MS + 500 - Date.now();
    if (spacing > 0) await new Promise((resolve) => setTimeout(resolve, spacing));
    const oldPrimary = await topology.primaryPort();
    const newPrimary = topology.nodes.find((node) => node.port !== oldPrimary)!.port;

    // Load: a dump running, others waiting behind it, and one acknowledged just before the kill.
    const before = [`r${round}-big`, `r${round}-small1`, `r${round}-small2`];
    await stack.queue.add('dump', { target: 'big' }, { jobId: before[0] });
    // Active and dumping (a pg_dump of the ticking schedule alone does not count).
    await waitFor(
      'the dump of big to run',
      async () =>
        (await stack!.queue.getJobState(before[0]!)) === 'active' &&
        workers.some((w) => descendantsNamed(w.pid, 'pg_dump').length > 0),
      30_000,
    );
    await stack.queue.add('dump', { target: 'small1' }, { jobId: before[1] });
    const edge = `r${round}-edge`;
    await stack.queue.add('dump', { target: 'small2' }, { jobId: before[2] });
    await stack.queue.add('dump', { target: 'small1' }, { jobId: edge });
    const statesAtKill: Record<string, string> = {};
    for (const id of [...before, edge]) statesAtKill[id] = await stack.queue.getJobState(id);
    const killedAt = Date.now();
    await topology.node(oldPrimary).kill();

    // Watch the dashboard from the kill on: it must show Redis down, then up again.
    let dashboardSawDown = false;
    const watching = waitFor(
      'the dashboard to report Redis down',
      async () => {
        dashboardSawDown = !(await dashboardUp(dashboardUrl));
        return dashboardSawDown;
      },
      20_000,
    ).catch(() => undefined);
    const promotedMs = await timeUntil('the replica to be promoted', killedAt, () =>
      topology.allAgreeOn(newPrimary),
    );
    await watching;
    const post = [`r${round}-post-big`, `r${round}-post-small2`];
    await stack.queue.add('dump', { target: 'big' }, { jobId: post[0] });
    const queueMs = Date.now() - killedAt;
    await stack.queue.add('dump', { target: 'small2' }, { jobId: post[1] });
    const dashboardMs = await timeUntil('the dashboard to follow the new primary', killedAt, () =>
      dashboardUp(dashboardUrl),
    ).catch((error: Error) => {
      throw new Error(`${error.message}; dashboard output: ${dashboard?.output().slice(-6000)}`);
    });
    const workersMs = await timeUntil('both workers /healthz to follow the new primary', killedAt, async () =>
      (await Promise.all(healthUrls.map(workerHealthy))).every(Boolean),
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}; last answers: ${JSON.stringify([...lastHealth])}; worker output: ${workers.map((w) => w.output().slice(-6000)).join('\n---\n')}`,
      );
    });

    // backupctl, started after the failover with the same configuration, finds the new primary.
    const status = await runBackupctl(['status', '--json'], stack.env);
    expect(status.code, status.stderr).not.toBe(3);
    expect(JSON.parse(status.stdout).targets).toBeDefined();
    const jobs = await runBackupctl(['jobs', '--limit', '200'], stack.env);
    expect(jobs.code, jobs.stderr).toBe(0);

    // What asynchronous replication lost: jobs acknowledged before the kill that the new primary
    // does not know (re-added, as an operator would) or whose completion it does not know (re-run).
    const lost: string[] = [];
    const completionLost: string[] = [];
    for (const id of [...before, edge]) {
      const state = await stack.queue.getJobState(id);
      if (state === 'unknown') {
        lost.push(id);
        if (statesAtKill[id] === 'active') lostWhileActive.add(id);
        const target = id.endsWith('big') ? 'big' : id.endsWith('small2') ? 'small2' : 'small1';
        await stack.queue.add('dump', { target }, { jobId: id });
      } else if (statesAtKill[id] === 'completed' && state !== 'completed') completionLost.push(id);
    }
    const mine = [...before, edge, ...post];
    for (const id of mine) {
      const job = await stack.settle(id, 120_000);
      expect(await stack.queue.getJobState(id), `${id}: ${job.failedReason}`).toBe('completed');
    }
    allIds.push(...mine);
    const reRun: string[] = [];
    for (const id of mine) {
      const started = (await jobLog(stack.queue, id)).filter((line) => line.includes('started on')).length;
      if (started > 1) reRun.push(id);
    }
    // The ticking schedule fires after the failover and its run completes.
    await waitFor(
      'a scheduled run of tick after the failover',
      async () =>
        (await listBackups(stack!.config.backupDir, { target: 'tick' })).entries.some(
          (entry) => Date.parse(entry.manifest.createdAt) > killedAt + promotedMs,
        ),
      60_000,
    );
    for (const worker of workers) expect(worker.child.exitCode).toBeNull();
    expect(dashboard.child.exitCode).toBeNull();
    lastFailoverAt = killedAt + promotedMs;

    // The old primary comes back as a replica of the new one (its data is replaced by a full sync).
    await topology.node(oldPrimary).restart({ replicaOf: newPrimary });
    rows.push({
      round,
      killedPort: oldPrimary,
      promotedPort: newPrimary,
      promotedMs,
      queueAddMs: queueMs,
      dashboardMs,
      dashboardSawDown,
      workersHealthyMs: workersMs,
      cliStatusMs: status.ms,
      cliStatusExit: status.code,
      statesAtKill,
      lost,
      completionLost,
      reRun,
    });
    console.log(`[redis-sentinel] ${JSON.stringify(rows.at(-1))}`);
  }

  // Stop the writers before reading the catalog (the ticking schedule keeps renaming files in).
  for (const worker of stack.processes) await worker.kill('SIGTERM');
  expect(await catalogProblems(stack.config.backupDir)).toEqual([]);
  const listing = await listBackups(stack.config.backupDir);
  const perJob = new Map<string, number>();
  for (const entry of listing.entries) {
    const id = entry.manifest.jobId ?? `(no job id) ${entry.manifest.id}`;
    perJob.set(id, (perJob.get(id) ?? 0) + 1);
  }
  // One backup per scheduled slot (the slot is in the scheduler's job id) and per manual job.
  expect([...perJob].filter(([id, count]) => count > (lostWhileActive.has(id) ? 2 : 1))).toEqual([]);
  for (const id of allIds) {
    const count = perJob.get(id) ?? 0;
    if (lostWhileActive.has(id)) expect(count, id).toBeGreaterThanOrEqual(1);
    else expect(count, id).toBe(1);
  }
  const tick = listing.entries.filter((entry) => entry.manifest.target === 'tick');
  const tickSlots = new Set(tick.map((entry) => entry.manifest.jobId));
  expect(tickSlots.size).toBe(tick.length);

  // No password in anything the services printed; the group is what they name.
  // (Not with SENTINEL_DEBUG: ioredis's debug output shows AUTH's arguments.)
  const printed = [...stack.processes, dashboard].map((p) => p.output()).join('\n');
  if (!process.env.SENTINEL_DEBUG) {
    expect(printed).not.toContain(dataPassword);
    expect(printed).not.toContain(sentinelPassword);
  }
  expect(printed).toContain(`sentinel://${topology.sentinelList}/${GROUP}`);

  recordResults('redis-sentinel', {
    rounds: ROUNDS,
    jobs: allIds.length,
    tickRuns: tick.length,
    lostTotal: rows.reduce((n, row) => n + (row.lost as string[]).length, 0),
    rows,
  });
}, 200_000);
