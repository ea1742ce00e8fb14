import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listBackups, type Manifest } from '@pgbackup/backup-core';
import { dumpSchedulerId, jobNames, parseJobResult, redisMemoryByKind } from '@pgbackup/queue';
import { freePort, PostgresServer, RedisServer, waitFor } from '@pgbackup/testkit';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { catalogProblems } from './support/backup-dir.js';
import { recordResults, summarize } from './support/results.js';
import { runBackupctl, spawnDashboardProcess } from './support/service-processes.js';
import { createStack, type Stack } from './support/stack.js';
import type { WorkerProcess } from './support/worker-process.js';

// One server target discovering every database of one cluster, on one schedule, two worker
// processes: each database dumped once in the slot, never more than the server's cap at once. The
// rest are figures (issue 15, "Scale"), recorded in test-output/reliability/server-scale.json.

/** How many databases the cluster holds (the issue's 500; smaller for a quick run). */
const DATABASES = Number(process.env.RELIABILITY_SERVER_DATABASES ?? 500);
/** BACKUP_SERVER_CONCURRENCY left at its default. */
const CAP = 2;
/** Each worker could run this many jobs: more than the cap, so the cap is what limits the server. */
const WORKER_CONCURRENCY = 4;
const SERVER = 'srv';
const dashboardPassword = 'dashboard-password-for-the-load-test';
const basic = { authorization: `Basic ${Buffer.from(`admin:${dashboardPassword}`).toString('base64')}` };

const width = Math.max(3, String(DATABASES).length);
const databases = Array.from({ length: DATABASES }, (_, n) => `d${String(n + 1).padStart(width, '0')}`);
const targets = databases.map((database) => `${SERVER}.${database}`);

let server: PostgresServer;
let redisServer: RedisServer;
let stack: Stack | undefined;
let dashboard: WorkerProcess | undefined;
let configDir: string;
let createDatabasesMs = 0;

async function admin<T>(database: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server.url(database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  server = await PostgresServer.start();
  // A Redis of its own: its memory is this test's alone (the other load test may run beside it).
  redisServer = await RedisServer.start();
  await admin('postgres', (client) => client.query('CREATE DATABASE load_template'));
  await admin('load_template', (client) =>
    client.query(`
      CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 100) g;
    `),
  );
  const creating = Date.now();
  // One statement each: CREATE DATABASE cannot run inside a multi-statement transaction.
  await admin('postgres', async (client) => {
    for (const name of databases) await client.query(`CREATE DATABASE ${name} TEMPLATE load_template`);
  });
  createDatabasesMs = Date.now() - creating;
  configDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-reliability-server-'));
}, 1_800_000);

afterAll(async () => {
  await dashboard?.kill('SIGKILL');
  await stack?.cleanup();
  await redisServer?.destroy();
  await server?.destroy();
  if (configDir) await fs.rm(configDir, { recursive: true, force: true });
}, 600_000);

/** Resident set size of a process in bytes, from /proc (undefined once it is gone). */
function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The most spans open at one instant (a span closing at t does not overlap one opening at t). */
function maxOverlap(spans: ReadonlyArray<readonly [number, number]>): number {
  const events = spans.flatMap(([start, end]) => [
    [start, 1],
    [end, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let open = 0;
  let max = 0;
  for (const [, delta] of events) {
    open += delta!;
    max = Math.max(max, open);
  }
  return max;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1]);
}

async function timed(url: string): Promise<{ ms: number; status: number; bytes: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers: basic });
  const body = await response.text();
  return { ms: Math.round(performance.now() - started), status: response.status, bytes: body.length };
}

const POLL_MS = 2_000;

it(`one server target with ${DATABASES} databases on one schedule, two workers: each database once in the slot, never more than ${CAP} dumps at once`, async () => {
  const started = Date.now();
  // The slot: a whole minute at least 45 s away, so both workers have put the schedule in place first.
  const slot = Math.ceil((Date.now() + 45_000) / 60_000) * 60_000;
  const at = new Date(slot);
  const schedule = `0 ${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
  const configFile = path.join(configDir, 'backups.yaml');
  await fs.writeFile(
    configFile,
    [
      `schedule: "${schedule}"`,
      'verify: "read"',
      'retention: "daily=7,weekly=4,monthly=12,min=1000"',
      'targets:',
      `  - name: "${SERVER}"`,
      `    url: "${server.url('postgres')}"`,
      '    databases: all',
      '    exclude: [load_template]',
      '',
    ].join('\n'),
  );
  stack = await createStack({
    BACKUP_CONFIG: configFile,
    REDIS_URL: redisServer.url,
    BACKUP_CONCURRENCY: String(WORKER_CONCURRENCY),
  });
  const prefix = stack.config.redis.prefix;
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const memoryBefore = await usedMemory(redis);
  await stack.spawn();
  await stack.spawn();
  const ready = Date.now();
  if (ready > slot - 2_000)
    throw new Error(
      `the workers took ${Math.round((ready - started) / 1000)} s to start, past the slot ${at.toISOString()}: the schedule would not fire today`,
    );

  // Samplers: databases of the server with a dump's connections open (a dump holds two, both as
  // `pgbackup`: the one exporting the snapshot and pg_dump's), the holders of the server's slot
  // pool, and the workers' RSS.
  const sampler = new pg.Client({ connectionString: server.url('postgres') });
  await sampler.connect();
  const slotKey = `${prefix}:servers:${SERVER}:slots`;
  let maxDatabases = 0;
  let maxListed = 0;
  let maxConnections = 0;
  let maxHolders = 0;
  let samples = 0;
  const rss = new Map<number, number[]>(stack.processes.map((worker) => [worker.pid, []]));
  let sampling = true;
  const sampling$ = (async () => {
    let lastRss = 0;
    while (sampling) {
      // A finished dump's backends may still be listed while they exit after the next dump took
      // the slot: the snapshot's connection, `idle in transaction` for the whole dump, keeps that
      // state until its backend is gone (seen once the released slot woke the next dump at once).
      // The load the cap bounds is the statements running: only an `active` backend counts.
      const row = await sampler.query<{ databases: number; connections: number; listed: number }>(
        `SELECT count(DISTINCT datname) FILTER (WHERE state = 'active')::int AS databases,
                count(*) FILTER (WHERE state = 'active')::int AS connections,
                count(DISTINCT datname)::int AS listed
           FROM pg_stat_activity WHERE application_name = 'pgbackup' AND datname LIKE 'd%'`,
      );
      maxDatabases = Math.max(maxDatabases, row.rows[0]!.databases);
      maxConnections = Math.max(maxConnections, row.rows[0]!.connections);
      maxListed = Math.max(maxListed, row.rows[0]!.listed);
      const [seconds, micros] = await redis.time();
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      maxHolders = Math.max(maxHolders, await redis.zcount(slotKey, `(${now}`, '+inf'));
      samples++;
      if (Date.now() - lastRss >= 1_000) {
        lastRss = Date.now();
        for (const [pid, values] of rss) {
          const value = rssBytes(pid);
          if (value !== undefined) values.push(value);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();

  // The budget: generous (a busy machine), about 6 s per dump at the cap, plus five minutes.
  const deadline = slot + (DATABASES * 6_000) / CAP + 300_000;
  const wanted = new Set(targets);
  let manifests: Manifest[] = [];
  // The slot's discover job, read as soon as it completes: BullMQ keeps only the newest completed
  // jobs (COMPLETED_JOBS_KEPT), and the slot's 1,500 later ones push it out before the end.
  const discoverId = `repeat:${dumpSchedulerId(SERVER)}:${slot}`;
  let discover: Job | undefined;
  for (;;) {
    if (!discover) {
      const job = await stack.queue.getJob(discoverId);
      if (job && (await job.getState()) === 'completed') discover = job;
    }
    manifests = (await listBackups(stack.config.backupDir)).entries
      .map((entry) => entry.manifest)
      .filter((m) => wanted.has(m.target));
    const verified = new Set(manifests.filter((m) => m.verifications.some((v) => v.ok)).map((m) => m.target));
    if (verified.size === DATABASES) break;
    if (Date.now() > deadline) {
      const counts = await stack.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
      throw new Error(
        `timed out waiting for ${DATABASES} verified backups: ${manifests.length} backups, ${verified.size} verified; queue: ${JSON.stringify(counts)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const doneAt = Date.now();
  await waitFor(
    'the queue to drain',
    async () => {
      const counts = await stack!.queue.getJobCounts('active', 'waiting', 'prioritized');
      return (counts.active ?? 0) + (counts.waiting ?? 0) + (counts.prioritized ?? 0) === 0;
    },
    120_000,
  );
  sampling = false;
  await sampling$;
  await sampler.end();

  // The slot's one discover run, and the dumps it enqueued. No other discover job is listed (one
  // pushed out of the completed jobs would still show as a second backup of some database below).
  expect(discover, `discover job ${discoverId}`).toBeDefined();
  const discovers = (await stack.queue.getJobs(['completed', 'failed', 'active', 'waiting'])).filter(
    (job) => job.name === jobNames.discover,
  );
  expect(discovers.filter((job) => job.id !== discoverId).map((job) => job.id)).toEqual([]);
  const result = parseJobResult('discover', discover!.id, discover!.returnvalue);
  expect(result.databases.map((entry) => entry.target).sort()).toEqual(targets);
  const slotDumps = new Set(result.databases.map((entry) => entry.dumpJobId));

  // Exactly one backup per database, of this slot's dump job, verified; the catalog whole.
  manifests = (await listBackups(stack.config.backupDir)).entries
    .map((entry) => entry.manifest)
    .filter((m) => wanted.has(m.target));
  const perTarget = new Map<string, number>();
  for (const m of manifests) perTarget.set(m.target, (perTarget.get(m.target) ?? 0) + 1);
  for (const name of targets) expect(perTarget.get(name), name).toBe(1);
  for (const m of manifests) {
    expect(slotDumps.has(m.jobId!), `${m.target}: job ${m.jobId}`).toBe(true);
    expect(
      m.verifications.some((v) => v.ok),
      m.target,
    ).toBe(true);
  }
  expect(await catalogProblems(stack.config.backupDir)).toEqual([]);

  // Never more than the cap: sampled connections and slot holders, and the dumps' own spans.
  const spans = manifests.map((m) => [Date.parse(m.createdAt), Date.parse(m.completedAt)] as const);
  const overlapFromManifests = maxOverlap(spans);
  expect(overlapFromManifests).toBeLessThanOrEqual(CAP);
  expect(maxHolders).toBeLessThanOrEqual(CAP);
  expect(maxDatabases).toBeGreaterThan(0);
  expect(
    maxDatabases,
    `databases with a dump's statement running at once (listed at all: ${maxListed})`,
  ).toBeLessThanOrEqual(CAP);

  // Figures: Redis, while the workers still run (their connections count too).
  const memoryAfter = await usedMemory(redis);
  // What each kind of key costs (job records by job name, BullMQ's own keys, the service's).
  const byKind = await redisMemoryByKind(redis, prefix);
  const keys = {
    keys: byKind.reduce((sum, kind) => sum + kind.keys, 0),
    bytes: byKind.reduce((sum, kind) => sum + kind.bytes, 0),
    jobBytes: byKind
      .filter((kind) => kind.kind.startsWith('job '))
      .reduce((sum, kind) => sum + kind.bytes, 0),
  };
  const workerRss = [...rss.values()].map((values) => ({
    maxMiB: Math.round(Math.max(...values) / 2 ** 20),
    lastMiB: Math.round(values.at(-1)! / 2 ** 20),
  }));

  // Operators' views at the end: backupctl (a fresh process each, as typed) and the dashboard page.
  const env = { ...stack.env, LOG_LEVEL: 'silent' };
  const statusRuns = [];
  for (let i = 0; i < 3; i++) statusRuns.push(await runBackupctl(['status', '--json'], env, 120_000));
  const status = JSON.parse(statusRuns.at(-1)!.stdout) as {
    targets: Array<{ target?: string; name?: string }>;
  };
  expect(status.targets.length).toBeGreaterThanOrEqual(DATABASES);
  const backupsRuns = [];
  for (let i = 0; i < 3; i++) backupsRuns.push(await runBackupctl(['backups', '--json'], env, 120_000));
  for (const run of backupsRuns) expect(run.code, run.stderr).toBe(0);
  expect(
    (JSON.parse(backupsRuns.at(-1)!.stdout) as { backups: unknown[] }).backups.length,
  ).toBeGreaterThanOrEqual(DATABASES);

  const dashboardPort = await freePort();
  const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  dashboard = spawnDashboardProcess({
    ...stack.env,
    DASHBOARD_PORT: String(dashboardPort),
    DASHBOARD_HOST: '127.0.0.1',
    DASHBOARD_PASSWORD: dashboardPassword,
  });
  await waitFor(
    'the dashboard to be ready',
    async () => (await fetch(`${dashboardUrl}/readyz`).catch(() => undefined))?.status === 200,
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; its output: ${dashboard?.output().slice(-2000)}`);
  });
  const pageRuns = [];
  for (let i = 0; i < 4; i++) pageRuns.push(await timed(`${dashboardUrl}/backups`));
  for (const run of pageRuns) expect(run.status).toBe(200);
  await redis.quit();

  const dumpSum = manifests.reduce((sum, m) => sum + m.durationMs, 0);
  const firstStart = Math.min(...spans.map((span) => span[0]));
  const lastEnd = Math.max(...spans.map((span) => span[1]));
  recordResults('server-scale', {
    databases: DATABASES,
    workers: 2,
    workerConcurrency: WORKER_CONCURRENCY,
    serverCap: CAP,
    schedule,
    slot: at.toISOString(),
    backups: manifests.length,
    maxDatabasesBeingDumpedSampled: maxDatabases,
    maxDumpConnectionsSampled: maxConnections,
    // Idle backends included: more than the cap when finished dumps' backends linger.
    maxDatabasesListedSampled: maxListed,
    maxSlotHoldersSampled: maxHolders,
    concurrencySamples: samples,
    maxConcurrentDumpsFromManifests: overlapFromManifests,
    dumpDurationMs: summarize(manifests.map((m) => m.durationMs)),
    // The ideal: every dump back to back on all of the server's slots.
    idealMakespanMs: Math.round(dumpSum / CAP),
    makespanSlotToLastDumpMs: lastEnd - slot,
    makespanFirstToLastDumpMs: lastEnd - firstStart,
    slotToAllVerifiedMs: doneAt - slot,
    redis: {
      usedMemoryDeltaBytes: memoryAfter - memoryBefore,
      usedMemoryDeltaPerDatabaseBytes: Math.round((memoryAfter - memoryBefore) / DATABASES),
      prefixKeys: keys.keys,
      prefixBytes: keys.bytes,
      prefixBytesPerDatabase: Math.round(keys.bytes / DATABASES),
      jobRecordBytesPerDatabase: Math.round(keys.jobBytes / DATABASES),
      otherBytesPerDatabase: Math.round((keys.bytes - keys.jobBytes) / DATABASES),
      byKind: byKind.map((kind) => ({
        ...kind,
        bytesPerKey: Math.round(kind.bytes / kind.keys),
        bytesPerDatabase: Math.round(kind.bytes / DATABASES),
      })),
    },
    workerRss,
    backupctlStatusJsonMs: statusRuns.map((run) => run.ms),
    backupctlStatusExit: statusRuns.at(-1)!.code,
    backupctlBackupsJsonMs: backupsRuns.map((run) => run.ms),
    dashboardBackupsPageMs: pageRuns.map((run) => run.ms),
    dashboardBackupsPageBytes: pageRuns.at(-1)!.bytes,
    createDatabasesMs,
    workersStartMs: ready - started,
    testDurationMs: Date.now() - started,
  });
}, 3_600_000);
