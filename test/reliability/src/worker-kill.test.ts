import { watch } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { listBackups, verifyBackup } from '@pgbackup/backup-core';
import { backupIdForJob, enqueueDump } from '@pgbackup/queue';
import { createTestDatabase, type TestDatabase, waitFor } from '@pgbackup/testkit';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { catalogProblems, partialFiles } from './support/backup-dir.js';
import { createPrng, seedFromEnv } from './support/prng.js';
import { recordResults, summarize } from './support/results.js';
import { createStack, fastTakeover, jobLog, type Stack } from './support/stack.js';
import { descendantsOf, isRunning, type WorkerProcess } from './support/worker-process.js';

const ITERATIONS = Number(process.env.RELIABILITY_KILLS ?? 20);
const seed = seedFromEnv();
const prng = createPrng(seed);
const TARGET = 'victim';

let db: TestDatabase;
let stack: Stack;
let workers: WorkerProcess[] = [];
/** Dump jobs started so far (each leaves one backup, killed or not). */
let jobs = 0;
/** How long a dump job takes here, from going active to completed. */
let dumpMs = 0;

beforeAll(async () => {
  // A few MB that take about half a second to dump: one table that streams for most of that time,
  // and small tables whose catalog queries pg_dump runs first.
  db = await createTestDatabase('kill');
  const small = Array.from(
    { length: 20 },
    (_, n) => `CREATE TABLE small_${n} AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200) g;`,
  ).join('\n');
  await db.query(`
    CREATE TABLE stream AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS v FROM generate_series(1, 300000) g;
    ${small}
  `);
  stack = await createStack({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: TARGET,
    BACKUP_VERIFY: 'read',
    BACKUP_ATTEMPTS: '3',
    BACKUP_CONCURRENCY: '2',
    // Nothing is pruned, so every backup this file made is still there to be counted.
    BACKUP_RETENTION: 'daily=7,weekly=4,monthly=12,min=1000',
    ...fastTakeover,
  });
  workers = [await stack.spawn(), await stack.spawn()];
  // The unharmed run measures how long a dump job takes: random kill points are drawn within it.
  const warm = await runUnharmed('warmup');
  dumpMs = warm.finishedOn! - warm.processedOn!;
});

afterAll(async () => {
  await stack?.cleanup();
});

async function runUnharmed(id: string): Promise<Job> {
  await enqueueDump(stack.queue, { target: TARGET }, { jobId: id });
  jobs++;
  const done = await stack.settle(id);
  expect(await stack.queue.getJobState(id), done.failedReason).toBe('completed');
  await settledChain((done.returnvalue as { backupId: string }).backupId);
  return done;
}

async function settledChain(backupId: string): Promise<void> {
  expect(await stack.finished(`verify-${backupId}-read`, 60_000)).toBe('completed');
  expect(await stack.finished(`prune-after-${backupId}`, 60_000)).toBe('completed');
}

type KillPhase = 'before-file' | 'mid-write' | 'renamed-no-manifest' | 'after-manifest';

/** Where the dead worker had got to, read from the files it left (nobody else can write them yet). */
async function phaseAtKill(backupId: string, victimPid: number): Promise<KillPhase> {
  const names = await fs.readdir(path.join(stack.config.backupDir, TARGET)).catch(() => [] as string[]);
  if (names.includes(`${backupId}.manifest.json`)) return 'after-manifest';
  if (names.some((name) => name.startsWith(`${backupId}.dump`))) return 'renamed-no-manifest';
  if (names.some((name) => name.endsWith('.partial') && name.includes(`.${victimPid}.`))) return 'mid-write';
  return 'before-file';
}

/** Polls faster than waitFor: the kill point is measured from the moment the job went active. */
async function activeJob(id: string): Promise<Job> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const job = await stack.queue.getJob(id);
    if (job?.processedOn && (await stack.queue.getJobState(id)) === 'active') return job;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for job ${id} to go active`);
}

/** The pid of the worker that runs the job's current attempt, from its job log. */
async function runnerPid(id: string): Promise<number> {
  let pid = 0;
  await waitFor(
    `the attempt log line of job ${id}`,
    async () => {
      const started = (await jobLog(stack.queue, id)).filter((line) => line.includes('started on'));
      pid = Number(/\(pid (\d+)\)/.exec(started.at(-1) ?? '')?.[1] ?? 0);
      return pid > 0;
    },
    10_000,
  );
  return pid;
}

/**
 * Calls `then` from the inotify callback the moment a file named `name` appears in `dir`: no
 * await in between, so the kill lands within the few milliseconds between two steps of a dump.
 */
function whenFileAppears(
  dir: string,
  name: string,
  then: () => void,
): { appeared: Promise<void>; close(): void } {
  let fire: () => void = () => {};
  const appeared = new Promise<void>((resolve) => {
    fire = resolve;
  });
  const watcher = watch(dir, (_event, file) => {
    if (file === name) {
      then();
      watcher.close();
      fire();
    }
  });
  return { appeared, close: () => watcher.close() };
}

interface KillRow {
  jobId: string;
  mode: 'takeover' | 'restart';
  trigger: string;
  killAfterMs: number;
  phase: KillPhase;
  attempts: number;
  reused: boolean;
  recoveryMs: number;
}

type Trigger = { afterMs: number } | { file: 'data' | 'manifest' };

/**
 * Starts a dump, SIGKILLs the worker running it at the trigger, brings workers back, and checks
 * what must hold afterwards. Returns undefined when the kill came after the job had completed.
 */
async function killDuringDump(
  id: string,
  mode: KillRow['mode'],
  trigger: Trigger,
): Promise<KillRow | undefined> {
  const targetDir = path.join(stack.config.backupDir, TARGET);
  await fs.mkdir(targetDir, { recursive: true, mode: 0o700 });
  await enqueueDump(stack.queue, { target: TARGET }, { jobId: id });
  jobs++;
  const job = await activeJob(id);
  const backupId = backupIdForJob(TARGET, id, job.timestamp + (job.opts.delay ?? 0));
  const pid = await runnerPid(id);
  const victim = workers.find((worker) => worker.pid === pid);
  expect(victim, `job ${id} runs on pid ${pid}, not one of our workers`).toBeDefined();
  let orphans = descendantsOf(pid);
  let killedAt = 0;
  if ('afterMs' in trigger) {
    const wait = job.processedOn! + trigger.afterMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    orphans = descendantsOf(pid);
    victim!.child.kill('SIGKILL');
    killedAt = Date.now();
  } else {
    const name = trigger.file === 'manifest' ? `${backupId}.manifest.json` : `${backupId}.dump.zst`;
    const watcher = whenFileAppears(targetDir, name, () => {
      victim!.child.kill('SIGKILL');
      killedAt = Date.now();
    });
    const finished = stack.finished(id, 60_000);
    const first = await Promise.race([watcher.appeared.then(() => 'file'), finished]);
    watcher.close();
    expect(first, `${name} to appear before job ${id} finished`).toBe('file');
  }
  await victim!.exited;
  const phase = await phaseAtKill(backupId, pid);
  workers.splice(workers.indexOf(victim!), 1);
  const before = await stack.queue.getJob(id);
  const missed = before?.finishedOn !== undefined && before.finishedOn <= killedAt;

  if (mode === 'restart' && !missed) {
    // Every worker down for a while, then started again: the job survives a restart too.
    for (const other of workers.splice(0)) await other.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, Math.round(prng.between(0, 1_500))));
    workers.push(await stack.spawn(), await stack.spawn());
  } else {
    workers.push(await stack.spawn());
  }
  if (missed) {
    await settledChain((before!.returnvalue as { backupId: string }).backupId);
    return undefined;
  }

  const done = await stack.settle(id, 90_000);
  expect(await stack.queue.getJobState(id), `job ${id}: ${done.failedReason}`).toBe('completed');
  const result = done.returnvalue as { backupId: string; reused: boolean };
  expect(result.backupId).toBe(backupId);
  await settledChain(backupId);
  // The dead worker's pg_dump and zstd went with it (they lose their pipe): nothing left running.
  await waitFor(
    'the killed worker’s children to exit',
    async () => orphans.every((child) => !isRunning(child)),
    15_000,
  );
  // Exactly one backup for the job, readable to its end; nothing partial; the catalog sound.
  const listing = await listBackups(stack.config.backupDir, { target: TARGET });
  expect(listing.entries.filter((entry) => entry.manifest.jobId === id).map((e) => e.manifest.id)).toEqual([
    backupId,
  ]);
  expect(listing.entries).toHaveLength(jobs);
  expect(await partialFiles(stack.config.backupDir)).toEqual([]);
  expect(await catalogProblems(stack.config.backupDir)).toEqual([]);
  await verifyBackup({ backupDir: stack.config.backupDir, id: backupId, level: 'read', record: false });
  const row: KillRow = {
    jobId: id,
    mode,
    trigger: 'afterMs' in trigger ? 'random time' : `${trigger.file} file appeared`,
    killAfterMs: killedAt - job.processedOn!,
    phase,
    attempts: (await jobLog(stack.queue, id)).filter((line) => line.includes('started on')).length,
    reused: result.reused,
    recoveryMs: done.finishedOn! - killedAt,
  };
  console.log(`[worker-kill] ${JSON.stringify(row)}`);
  return row;
}

const rows: KillRow[] = [];
const targeted: KillRow[] = [];
let missed = 0;
let windowMs = 0;

it(`a worker SIGKILLed at ${ITERATIONS} random points of a dump: each job completes elsewhere, one valid backup each (seed ${seed})`, async () => {
  console.log(`[worker-kill] seed ${seed} (replay with RELIABILITY_SEED=${seed})`);
  // A kill that lands after the job completed tests nothing: it is not counted, the window
  // shrinks to the duration just observed, and the kill is drawn again.
  windowMs = dumpMs;
  for (let attempt = 0; rows.length < ITERATIONS; attempt++) {
    expect(missed, 'kills that landed after their job had completed').toBeLessThan(ITERATIONS);
    // Every fifth kill takes every worker down.
    const mode = rows.length % 5 === 4 ? 'restart' : 'takeover';
    const afterMs = Math.round(prng.between(0, windowMs));
    const row = await killDuringDump(`kill-${attempt}`, mode, { afterMs });
    if (row) rows.push(row);
    else {
      missed++;
      const job = await stack.queue.getJob(`kill-${attempt}`);
      windowMs = Math.max(100, job!.finishedOn! - job!.processedOn!);
      console.log(
        `[worker-kill] kill ${attempt} at ${afterMs} ms came after the job: window now ${windowMs} ms`,
      );
    }
  }
}, 600_000);

it('a worker SIGKILLed the moment its backup file is renamed into place, and the moment its manifest is written', async () => {
  // The last milliseconds of a dump, which random points rarely hit: a file without its manifest
  // (the re-run must replace it), and a finished backup whose job has not completed (the re-run
  // must reuse it rather than dump a second one).
  for (const file of ['data', 'manifest', 'data', 'manifest'] as const) {
    for (let tries = 0; ; tries++) {
      expect(tries, `a kill right after the ${file} file appeared`).toBeLessThan(5);
      const row = await killDuringDump(`at-${file}-${targeted.length}-${tries}`, 'takeover', { file });
      if (!row) continue;
      targeted.push(row);
      // The manifest may beat the kill (it follows the rename by one fsync): try again, a few times.
      if (file === 'data' && row.phase !== 'renamed-no-manifest' && tries < 2) continue;
      break;
    }
  }
  const manifestKills = targeted.filter((row) => row.phase === 'after-manifest');
  for (const row of manifestKills) expect(row.reused).toBe(true);
}, 300_000);

afterAll(async () => {
  // Every manifest, old and new, still points at a backup that reads back completely.
  const listing = await listBackups(stack.config.backupDir, { target: TARGET });
  for (const entry of listing.entries) {
    await verifyBackup({
      backupDir: stack.config.backupDir,
      id: entry.manifest.id,
      level: 'read',
      record: false,
    });
  }
  const count = (list: KillRow[], key: 'phase' | 'mode') =>
    list.reduce<Record<string, number>>((acc, row) => {
      acc[row[key]] = (acc[row[key]] ?? 0) + 1;
      return acc;
    }, {});
  recordResults('worker-kill', {
    seed,
    iterations: ITERATIONS,
    dumpJobMs: dumpMs,
    killWindowMs: windowMs,
    missedKills: missed,
    completed: rows.length,
    backups: listing.entries.length,
    allBackupsReadBack: listing.entries.length,
    phases: count(rows, 'phase'),
    modes: count(rows, 'mode'),
    attempts: summarize(rows.map((r) => r.attempts)),
    recoveryMs: summarize(rows.map((r) => r.recoveryMs)),
    targeted: targeted.map(({ trigger, phase, attempts, reused, recoveryMs }) => ({
      trigger,
      phase,
      attempts,
      reused,
      recoveryMs,
    })),
    rows,
  });
});
