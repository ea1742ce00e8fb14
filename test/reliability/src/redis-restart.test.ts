import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listBackups, verifyBackup } from '@pgbackup/backup-core';
import { createTestDatabase, RedisServer, waitFor } from '@pgbackup/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { catalogProblems } from './support/backup-dir.js';
import { writeConfigFile } from './support/config-file.js';
import { createPrng, seedFromEnv } from './support/prng.js';
import { recordResults } from './support/results.js';
import { createStack, fastTakeover, type Stack } from './support/stack.js';
import { descendantsNamed, type WorkerProcess } from './support/worker-process.js';

const ROUNDS = Number(process.env.RELIABILITY_REDIS_OUTAGES ?? 3);
const seed = seedFromEnv();
// Daily, twelve hours away: never fires during the test; these schedulers are records that must
// survive. (A yearly or monthly schedule would need BACKUP_MAX_AGE: see docs/reliability.md.)
const DORMANT = `0 0 ${(new Date().getUTCHours() + 12) % 24} * * *`;
// Fires all along: a schedule must keep producing runs after Redis comes back.
const TICKING = '*/5 * * * * *';

let redis: RedisServer;
let stack: Stack | undefined;
let configDir: string;
const targets: Array<{ name: string; url: string; schedule: string }> = [];

beforeAll(async () => {
  redis = await RedisServer.start({ aof: true });
  // `big` dumps for about three seconds, so Redis can die while it runs with others queued behind it.
  const big = await createTestDatabase('rbig');
  await big.query(
    `CREATE TABLE stream AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS v FROM generate_series(1, 1500000) g`,
  );
  targets.push({ name: 'big', url: big.url, schedule: DORMANT });
  for (const name of ['small1', 'small2', 'small3', 'tick']) {
    const db = await createTestDatabase(name);
    await db.query(`CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g`);
    targets.push({ name, url: db.url, schedule: name === 'tick' ? TICKING : DORMANT });
  }
  configDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-reliability-redis-'));
});

afterAll(async () => {
  await stack?.cleanup();
  await redis?.destroy();
  if (configDir) await fs.rm(configDir, { recursive: true, force: true });
});

interface Snapshot {
  schedulers: string[];
  delayed: string[];
  waiting: string[];
}

async function snapshot(): Promise<Snapshot> {
  const queue = stack!.queue;
  return {
    schedulers: (await queue.getJobSchedulers(0, -1, true)).map((s) => `${s.key} ${s.pattern}`).sort(),
    delayed: (await queue.getDelayed()).map((job) => job.id!).sort(),
    waiting: (await queue.getWaiting()).map((job) => job.id!).sort(),
  };
}

it(`Redis (AOF everysec) SIGKILLed ${ROUNDS} times during a dump with jobs waiting: workers reconnect, nothing queued is lost, every dump completes (seed ${seed})`, async () => {
  console.log(`[redis-restart] seed ${seed}`);
  const prng = createPrng(seed);
  const configFile = await writeConfigFile(
    configDir,
    { verify: 'read', retention: 'daily=7,weekly=4,monthly=12,min=1000' },
    targets,
  );
  stack = await createStack({
    BACKUP_CONFIG: configFile,
    REDIS_URL: redis.url,
    // One job at a time across both workers: the other dumps wait while `big` runs.
    BACKUP_CONCURRENCY: '1',
    BACKUP_ATTEMPTS: '5',
    BACKUP_BACKOFF: '500ms',
  });
  const workers: WorkerProcess[] = [await stack.spawn(), await stack.spawn()];
  const rows: Array<Record<string, unknown>> = [];
  const allDumps: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const outageMs = Math.round(prng.between(500, 3_000));
    const ids = {
      big: `r${round}-big`,
      waiting: ['small1', 'small2', 'small3'].map((t) => `r${round}-${t}`),
      delayed: `r${round}-delayed`,
    };
    await stack.queue.add('dump', { target: 'big' }, { jobId: ids.big });
    await waitFor(
      'pg_dump of big to run',
      async () => workers.some((w) => descendantsNamed(w.pid, 'pg_dump').length > 0),
      30_000,
    );
    for (const [n, target] of ['small1', 'small2', 'small3'].entries()) {
      await stack.queue.add('dump', { target }, { jobId: ids.waiting[n] });
    }
    await stack.queue.add('dump', { target: 'small2' }, { jobId: ids.delayed, delay: 5_000 });
    // appendfsync everysec: what was written more than a second ago is on disk.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const before = await snapshot();
    const bigRunning = workers.some((w) => descendantsNamed(w.pid, 'pg_dump').length > 0);
    await redis.kill();
    const killedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, outageMs));
    await redis.restart();

    // Straight after the restart, before the workers get going: every job and schedule is back.
    const after = await snapshot();
    const mine = [ids.big, ...ids.waiting, ids.delayed];
    const states: Record<string, string> = {};
    for (const id of mine) states[id] = await stack.queue.getJobState(id);
    expect(Object.values(states)).not.toContain('unknown');
    expect(after.schedulers).toEqual(before.schedulers);
    // Delayed jobs (the schedulers' next runs among them) are all there; one may have come due since.
    for (const id of before.delayed.filter((id) => !id.startsWith('repeat:dump:tick'))) {
      expect(await stack.queue.getJobState(id), id).not.toBe('unknown');
    }
    // (The ticking schedule's jobs are left out: one made in the last second may not be on disk yet.)
    for (const id of before.waiting.filter((id) => !id.startsWith('repeat:dump:tick'))) {
      expect(await stack.queue.getJobState(id), id).not.toBe('unknown');
    }

    for (const id of mine) {
      const job = await stack.settle(id, 180_000);
      expect(await stack.queue.getJobState(id), `${id}: ${job.failedReason}`).toBe('completed');
      allDumps.push(id);
    }
    for (const worker of workers) expect(worker.child.exitCode).toBeNull();
    const listing = await listBackups(stack.config.backupDir);
    for (const id of mine) {
      expect(listing.entries.filter((entry) => entry.manifest.jobId === id)).toHaveLength(1);
    }
    const bigJob = await stack.queue.getJob(ids.big);
    rows.push({
      round,
      outageMs,
      bigRunningAtKill: bigRunning,
      waitingAtKill: before.waiting.length,
      delayedAtKill: before.delayed.length,
      schedulersAtKill: before.schedulers.length,
      statesAfterRestart: states,
      bigAttempts: bigJob?.attemptsMade,
      bigStalled: bigJob?.stalledCounter,
      bigDoneAfterKillMs: bigJob!.finishedOn! - killedAt,
    });
    console.log(`[redis-restart] ${JSON.stringify(rows.at(-1))}`);
  }

  // The ticking schedule still fires after the last restart, and its runs complete.
  const lastRestart = Date.now();
  await waitFor(
    'a scheduled run of tick after the last restart',
    async () =>
      (await listBackups(stack!.config.backupDir, { target: 'tick' })).entries.some(
        (entry) => Date.parse(entry.manifest.completedAt) > lastRestart,
      ),
    30_000,
  );
  // Stop what writes before looking at the catalog: the ticking schedule keeps firing, and a dump
  // that renames its file between the manifest listing and the directory walk would show as "a
  // file no manifest describes" (it failed that way on a busy machine). A graceful stop lets the
  // running jobs finish; after it, the directory is one consistent snapshot.
  for (const worker of stack.processes) await worker.kill('SIGTERM');
  const problems = await catalogProblems(stack.config.backupDir);
  expect(problems).toEqual([]);
  const listing = await listBackups(stack.config.backupDir);
  for (const entry of listing.entries.filter((e) => allDumps.includes(e.manifest.jobId ?? ''))) {
    await verifyBackup({
      backupDir: stack.config.backupDir,
      id: entry.manifest.id,
      level: 'read',
      record: false,
    });
  }
  const tickRuns = listing.entries.filter((entry) => entry.manifest.target === 'tick').length;
  // Every line the workers wrote through the outages is a structured log line, none a raw stack.
  const rawLines = stack.processes
    .flatMap((w) => w.output().split('\n'))
    .filter((l) => l && !l.startsWith('{'));
  expect(rawLines.slice(0, 5)).toEqual([]);
  recordResults('redis-restart', { seed, rounds: ROUNDS, dumps: allDumps.length, tickRuns, rows });
}, 600_000);

it(`a Redis outage longer than the job lock: the job is taken over while its first run may still write, and one backup results (seed ${seed})`, async () => {
  const prng = createPrng(seed + 1);
  const configFile = await writeConfigFile(
    configDir,
    { verify: 'read', retention: 'daily=7,weekly=4,monthly=12,min=1000' },
    targets.filter((t) => t.name === 'big'),
  );
  await stack?.cleanup();
  stack = await createStack({
    BACKUP_CONFIG: configFile,
    REDIS_URL: redis.url,
    BACKUP_CONCURRENCY: '2',
    BACKUP_ATTEMPTS: '5',
    BACKUP_BACKOFF: '500ms',
    ...fastTakeover,
  });
  const workers: WorkerProcess[] = [await stack.spawn(), await stack.spawn()];
  const rows: Array<Record<string, unknown>> = [];
  for (let round = 0; round < 2; round++) {
    const outageMs = Math.round(prng.between(4_000, 6_000));
    const id = `long-${round}`;
    await stack.queue.add('dump', { target: 'big' }, { jobId: id });
    await waitFor(
      'pg_dump of big to run',
      async () => workers.some((w) => descendantsNamed(w.pid, 'pg_dump').length > 0),
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.round(prng.between(100, 800))));
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, outageMs));
    await redis.restart();
    const job = await stack.settle(id, 180_000);
    expect(await stack.queue.getJobState(id), job.failedReason).toBe('completed');
    const backupId = (job.returnvalue as { backupId: string }).backupId;
    expect(await stack.finished(`verify-${backupId}-read`, 60_000)).toBe('completed');
    await waitFor(
      'the queue to settle',
      async () => (await stack!.queue.getJobCounts('active')).active === 0,
      60_000,
    );
    const listing = await listBackups(stack.config.backupDir, { target: 'big' });
    expect(listing.entries.filter((entry) => entry.manifest.jobId === id)).toHaveLength(1);
    expect(await catalogProblems(stack.config.backupDir)).toEqual([]);
    await verifyBackup({ backupDir: stack.config.backupDir, id: backupId, level: 'read', record: false });
    const logs = (await stack.queue.getJobLogs(id, 0, -1, true)).logs;
    rows.push({
      round,
      outageMs,
      attemptsStarted: logs.filter((line) => line.includes('started on')).length,
      stalled: job.stalledCounter,
      reused: (job.returnvalue as { reused: boolean }).reused,
      log: logs.map((line) => line.slice(25, 200)),
    });
    console.log(`[redis-restart] long outage ${JSON.stringify(rows.at(-1))}`);
  }
  for (const worker of workers) expect(worker.child.exitCode).toBeNull();
  recordResults('redis-long-outage', { seed: seed + 1, rows });
}, 300_000);
