// `backupctl status --json` and the dashboard's backups page at fleet scale (issue 15: both under
// 1 s with 500 targets). One server target `srv` whose 500 discovered databases (srv.d001...) each
// have 30 backups on disk (15,000 manifests, the newest verified), and a private Redis holding what
// workers leave after `--slots` scheduled runs: the server's job scheduler, the discovery registry,
// the watched-since hash, and per database and slot a completed dump, verify and prune job (with
// job logs and return values shaped like the worker's), the slot's discover job, and `--failed`
// databases whose newest dump failed (so status must report them FAILING). The jobs go through a
// real BullMQ Worker with the service's job options (createBackupQueue), so retention, the events
// stream and the completed set are BullMQ's own.
//
// Prints: the wall and CPU time of `backupctl status --json` and `backups --json` (a fresh process
// each run, as typed, medians), next to `node -e 0`; the dashboard's GET /backups (one process,
// first request then warm ones); MEMORY USAGE of the Redis keys by kind (this synthetic state's; the
// 500-database load test measures a real run's). Checks the status document: one row per
// database, the failing ones failing, the others ok.
//
// Run (after the build): pnpm --filter @pgbackup/bench run probe:status-scale
//   [-- --targets 500 --backups 30 --slots 1 --failed 5 --runs 5 --cpu-prof DIR --no-dashboard]
// --cpu-prof DIR: one more status run under `node --cpu-prof`, its profile left in DIR and its
// heaviest functions and modules (self time) printed.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, newBackupId, parseBackupId, writeManifest } from '@pgbackup/backup-core';
import {
  createBackupQueue,
  defaultJobOptions,
  dumpSchedulerId,
  enqueueChainPrune,
  enqueueVerify,
  jobNames,
  markWatched,
  QUEUE_NAME,
  recordDiscovery,
  redisMemoryByKind,
} from '@pgbackup/queue';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '500' },
    backups: { type: 'string', default: '30' },
    slots: { type: 'string', default: '1' },
    failed: { type: 'string', default: '5' },
    runs: { type: 'string', default: '5' },
    'cpu-prof': { type: 'string' },
    'no-dashboard': { type: 'boolean', default: false },
  },
});
const targets = Number(values.targets);
const perTarget = Number(values.backups);
const slots = Number(values.slots);
const failedCount = Number(values.failed);
const runs = Number(values.runs);
for (const [name, value] of Object.entries({ targets, backups: perTarget, slots, runs }))
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name}: expected a whole number >= 1`);
if (!Number.isSafeInteger(failedCount) || failedCount < 0 || failedCount > targets)
  throw new Error('--failed: expected a whole number from 0 to --targets');
if (slots > perTarget) throw new Error('--slots: at most --backups (each slot verifies one backup)');

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const backupctl = path.join(repo, 'apps/backupctl/bin/backupctl.js');
const dashboardMain = path.join(repo, 'apps/dashboard/dist/main.js');
const ticksPerSecond = 100;
const SERVER = 'srv';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function log(message) {
  console.error(`[probe:status-scale ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** CPU of the children this process has waited for, in ms (fields 16 and 17 of /proc/self/stat). */
function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / ticksPerSecond;
}

function loadAverage() {
  return `${os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')} (${os.cpus().length} cores)`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A child that must still run when stopped; stop() ends it by its pid and waits for the exit. */
function startChild(name, command, args, env) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const { code, signal } = await exited;
      clearTimeout(timer);
      if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL')
        throw new Error(`${name} exited ${code ?? signal}: ${output.slice(-2000)}`);
    },
  };
}

const work = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-status-scale-'));
const backupDir = path.join(work, 'backups');
const redisDir = path.join(work, 'redis');
await fs.mkdir(backupDir);
await fs.mkdir(redisDir);
const redisPort = await freePort();
const redisServer = startChild(
  'redis-server',
  'redis-server',
  ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir],
  { PATH: process.env.PATH },
);
const redisUrl = `redis://127.0.0.1:${redisPort}`;
let dashboard;
let redis;
let queue;
let worker;
let workerConnection;
try {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // Refused until redis-server listens: waitUntil below retries.
  redis.on('error', () => undefined);
  await waitUntil('redis-server to answer', async () => (await redis.ping()) === 'PONG', 10_000);

  // The configuration: one server target discovering every database, daily at 02:00.
  const configFile = path.join(work, 'backups.yaml');
  await fs.writeFile(
    configFile,
    [
      'schedule: "0 2 * * *"',
      'verify: "read"',
      'retention: "daily=7,weekly=4,monthly=12"',
      'targets:',
      `  - name: "${SERVER}"`,
      // Never connected to: status reads the catalog and Redis only.
      '    url: "postgresql://pgbackup@127.0.0.1:1/postgres"',
      '    databases: all',
      '',
    ].join('\n'),
  );
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BACKUP_CONFIG: configFile,
    BACKUP_DIR: backupDir,
    BACKUP_LOG_DIR: path.join(work, 'logs'),
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'silent',
  };
  const config = loadConfig({ env, cwd: work });
  const prefix = config.redis.prefix;

  // The catalog: `perTarget` daily backups per database, the newest 10 minutes old; the ones the
  // slots made are verified at level read (the others too: verified when they were taken).
  const width = Math.max(3, String(targets).length);
  const databases = Array.from({ length: targets }, (_, n) => `d${String(n + 1).padStart(width, '0')}`);
  const found = databases.map((database) => ({ database, target: `${SERVER}.${database}` }));
  const now = Date.now();
  const ids = new Map();
  const catalogStarted = performance.now();
  // The server's globals backups (`srv.globals`, one per run) are a target of their own too.
  const catalogTargets = [...found, { database: 'postgres', target: `${SERVER}.globals`, globals: true }];
  for (const [t, { database, target, globals }] of catalogTargets.entries()) {
    await fs.mkdir(path.join(backupDir, target), { recursive: true });
    const own = [];
    for (let b = 0; b < perTarget; b++) {
      const createdAt = new Date(now - 10 * 60_000 - b * DAY - t * 100);
      const id = newBackupId(target, createdAt);
      own.push(id);
      const bytes = Buffer.from(id);
      await fs.writeFile(path.join(backupDir, target, `${id}.dump`), bytes);
      const at = createdAt.toISOString();
      const verifiedAt = new Date(createdAt.getTime() + 1_000).toISOString();
      await writeManifest(backupDir, {
        formatVersion: 1,
        id,
        target,
        database,
        createdAt: at,
        completedAt: at,
        durationMs: 180,
        file: `${id}.dump`,
        format: globals ? 'globals' : 'custom',
        compression: 'zstd',
        encryption: null,
        sizeBytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        pgDumpVersion: '16.4',
        serverVersion: '16.4',
        tableCount: globals ? 0 : 2,
        tables: globals
          ? []
          : [
              { schema: 'public', name: 'orders', rows: 1000, bytes: 65536 },
              { schema: 'public', name: 'customers', rows: 100, bytes: 8192 },
            ],
        status: 'complete',
        verifications: [{ level: 'read', ok: true, at: verifiedAt, durationMs: 40 }],
        jobId: `dump-${target}-${b}`,
        hostname: 'bench',
      });
    }
    ids.set(target, own);
  }
  // A settled catalog: the directories were last changed a while ago (see directory-listing.ts).
  const past = new Date(now - HOUR);
  for (const { target } of catalogTargets) await fs.utimes(path.join(backupDir, target), past, past);
  log(
    `catalog: ${catalogTargets.length} x ${perTarget} manifests in ${Math.round(performance.now() - catalogStarted)} ms`,
  );

  // Redis as workers leave it: the schedule, the discovery registry, the watched-since hash.
  queue = createBackupQueue(config, redis);
  await queue.upsertJobScheduler(
    dumpSchedulerId(SERVER),
    { pattern: config.targets[0].schedule, tz: config.targets[0].timeZone },
    {
      name: jobNames.discover,
      data: { server: SERVER, origin: 'schedule' },
      opts: defaultJobOptions(config),
    },
  );
  await recordDiscovery(redis, prefix, SERVER, found, new Date(now - perTarget * DAY));
  await markWatched(
    redis,
    prefix,
    found.map((item) => item.target),
    new Date(now - perTarget * DAY),
  );

  // The jobs of `slots` runs, through a real BullMQ Worker: a discover job, then per database a
  // dump that enqueues its verify, which enqueues the chain's prune; log lines and return values
  // as the worker writes them. The failing databases' dump of the last slot fails.
  const failing = new Set(found.slice(0, failedCount).map((item) => item.target));
  const at = () => new Date().toISOString();
  /** The slot (1..slots) each discover and dump job belongs to, by job id. */
  const slotOfJob = new Map();
  const processor = async (job) => {
    const line = (message) => job.log(`${at()} ${message}`);
    await line(`attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1} started`);
    if (job.name === jobNames.discover) {
      const slot = slotOfJob.get(job.id);
      const hash = createHash('sha256').update(job.id).digest('hex').slice(0, 12);
      const dumps = [];
      for (const item of found) {
        const dumpJobId = `dump-${item.target}-${hash}`;
        slotOfJob.set(dumpJobId, slot);
        await queue.add(jobNames.dump, { target: item.target, origin: 'schedule' }, { jobId: dumpJobId });
        dumps.push({ database: item.database, target: item.target, dumpJobId });
      }
      await line(`${SERVER}: ${dumps.length} dump(s) enqueued, 0 new, 0 vanished, 0 skipped`);
      return {
        server: SERVER,
        globalsBackupId: ids.get(`${SERVER}.globals`)[slots - slot],
        databases: dumps,
        discovered: [],
        vanished: [],
        skipped: [],
      };
    }
    if (job.name === jobNames.dump) {
      const { target } = job.data;
      const slot = slotOfJob.get(job.id);
      if (slot === slots && failing.has(target))
        throw new UnrecoverableError(
          'PG_CONNECT_FAILED: could not connect to 127.0.0.1:1 (connection refused)',
        );
      const backupId = ids.get(target)[slots - slot];
      await line(
        `dumping postgresql://pgbackup@127.0.0.1:1/${target.slice(4)} as ${backupId} (run log ${work}/logs/${target}/x.log)`,
      );
      const verify = await enqueueVerify(queue, {
        backupId,
        level: 'read',
        pruneAfter: true,
        origin: 'chain',
      });
      await line(
        `backup written: ${backupDir}/${target}/${backupId}.dump (2048 bytes); verify job ${verify.id} (read)`,
      );
      return {
        backupId,
        target,
        file: `${backupDir}/${target}/${backupId}.dump`,
        sizeBytes: 2048,
        sha256: createHash('sha256').update(backupId).digest('hex'),
        durationMs: 180,
        reused: false,
        runLog: `${work}/logs/${target}/x.log`,
        verifyJobId: verify.id,
      };
    }
    if (job.name === jobNames.verify) {
      const { backupId } = job.data;
      const { target } = parseBackupId(backupId);
      await line(`verifying ${backupId} at level read`);
      const prune = await enqueueChainPrune(queue, target, backupId);
      await line(`prune job ${prune.id} enqueued for ${target}`);
      return { backupId, target, level: 'read', ok: true, durationMs: 40, pruneJobId: prune.id };
    }
    // prune: every backup kept (within retention), as the worker reports it.
    const { target } = job.data;
    await line(`deleted 0 backup(s), kept ${perTarget}`);
    return {
      target,
      dryRun: false,
      kept: perTarget,
      deleted: [],
      decisions: ids.get(target).map((id, index) => ({
        id,
        createdAt: new Date(now - 10 * 60_000 - index * DAY).toISOString(),
        action: 'keep',
        reasons: [index < 7 ? `daily slot ${index + 1} of 7` : `weekly slot ${Math.ceil(index / 7)} of 4`],
      })),
    };
  };
  workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  workerConnection.on('error', () => undefined);
  worker = new Worker(QUEUE_NAME, processor, {
    connection: workerConnection,
    prefix,
    concurrency: 50,
  });
  const jobsStarted = performance.now();
  for (let slot = 1; slot <= slots; slot++) {
    // The scheduler's own ids (`repeat:<scheduler>:<millis>`) hold colons, which custom ids may not.
    const slotAt = now - (slots - slot) * DAY - 15 * 60_000;
    const discoverJobId = `probe-discover-${SERVER}-${slotAt}`;
    slotOfJob.set(discoverJobId, slot);
    await queue.add(jobNames.discover, { server: SERVER, origin: 'schedule' }, { jobId: discoverJobId });
    await waitUntil(
      `slot ${slot}'s jobs to finish`,
      async () => {
        // Not `delayed`: the scheduler's next run waits there.
        const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
        return Object.values(counts).every((count) => count === 0);
      },
      targets * 1_000,
    );
  }
  const counts = await queue.getJobCounts('completed', 'failed');
  log(
    `jobs: ${counts.completed} completed, ${counts.failed} failed in ${Math.round(performance.now() - jobsStarted)} ms`,
  );
  await worker.close();
  worker = undefined;

  // MEMORY USAGE of every key under the prefix, by kind.
  const byKind = await redisMemoryByKind(redis, prefix);
  const memoryRows = byKind.map(({ kind, keys, bytes }) => ({
    kind,
    keys,
    'bytes per key': Math.round(bytes / keys),
    'bytes per target': Math.round(bytes / targets),
  }));
  const totalBytes = byKind.reduce((sum, entry) => sum + entry.bytes, 0);
  const totalKeys = byKind.reduce((sum, entry) => sum + entry.keys, 0);

  // backupctl, a fresh process each run.
  const rows = [];
  let statusDocument;
  let statusExit;
  const cases = [
    { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
    { name: 'backupctl backups --json', args: [backupctl, 'backups', '--json'] },
    { name: 'backupctl status --json', args: [backupctl, 'status', '--json'] },
  ];
  for (const { name, args } of cases) {
    const wall = [];
    const cpu = [];
    for (let i = 0; i < runs; i++) {
      const cpuBefore = childrenCpuMs();
      const started = performance.now();
      const result = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
      wall.push(performance.now() - started);
      cpu.push(childrenCpuMs() - cpuBefore);
      // status exits 1: the failing databases.
      const expected = name.includes('status') && failedCount > 0 ? 1 : 0;
      if (result.status !== expected)
        throw new Error(
          `${name} exited ${result.status} (expected ${expected}): ${result.stderr.slice(-2000)}`,
        );
      if (name.includes('status')) {
        statusDocument = JSON.parse(result.stdout);
        statusExit = result.status;
      }
    }
    rows.push({
      command: name,
      runs: wall.map((ms) => Math.round(ms)).join(', '),
      'median wall ms': Math.round(median(wall)),
      'median CPU ms': median(cpu),
    });
  }

  // The status document still says what it must.
  const rowsOf = new Map(statusDocument.targets.map((row) => [row.target, row]));
  const problems = [];
  for (const { target } of found) {
    const row = rowsOf.get(target);
    if (!row) problems.push(`${target}: no row`);
    else if (failing.has(target) ? row.state !== 'failing' || row.ok : row.state !== 'ok' || !row.ok)
      problems.push(`${target}: state ${row.state}, ok ${row.ok}`);
  }
  if (statusDocument.servers[0]?.databases?.length !== targets)
    problems.push(`server ${SERVER}: ${statusDocument.servers[0]?.databases?.length} databases listed`);
  if (problems.length > 0) throw new Error(`status --json is wrong: ${problems.slice(0, 10).join('; ')}`);

  // The dashboard's backups page: one process, the first request then warm ones.
  const pageRows = [];
  if (!values['no-dashboard']) {
    const port = await freePort();
    const password = 'status-scale-probe-password';
    dashboard = startChild('dashboard', process.execPath, [dashboardMain], {
      ...env,
      LOG_LEVEL: 'warn',
      DASHBOARD_PORT: String(port),
      DASHBOARD_HOST: '127.0.0.1',
      DASHBOARD_PASSWORD: password,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitUntil(
      'the dashboard to be ready',
      async () => {
        if (!dashboard.alive()) throw new Error(`the dashboard exited: ${dashboard.output().slice(-2000)}`);
        return (await fetch(`${base}/readyz`)).status === 200;
      },
      60_000,
    );
    const headers = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` };
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      const response = await fetch(`${base}/backups`, { headers });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`GET /backups answered ${response.status}`);
      pageRows.push({
        request: i === 0 ? 'first' : 'warm',
        ms: Math.round(performance.now() - started),
        'HTML KB': Math.round(body.length / 1024),
      });
    }
    await dashboard.stop();
    dashboard = undefined;
  }

  console.log(
    `\n${targets} targets x ${perTarget} backups (${targets * perTarget} manifests), ${slots} slot(s) of jobs, ${failedCount} failing`,
  );
  console.table(rows);
  console.log(
    `status --json: ${statusDocument.targets.length} target rows, exit ${statusExit}, ${failing.size} failing as expected`,
  );
  if (pageRows.length > 0) console.table(pageRows);
  console.log(
    `Redis (this synthetic state), MEMORY USAGE of ${totalKeys} keys under ${prefix}: ${totalBytes} bytes, ${Math.round(totalBytes / targets)} per target`,
  );
  console.table(memoryRows);

  if (values['cpu-prof']) {
    const dir = path.resolve(values['cpu-prof']);
    await fs.mkdir(dir, { recursive: true });
    const before = new Set(await fs.readdir(dir));
    const result = spawnSync(
      process.execPath,
      ['--cpu-prof', '--cpu-prof-dir', dir, backupctl, 'status', '--json'],
      { env, encoding: 'utf8', maxBuffer: 256 * 2 ** 20 },
    );
    if (result.status !== statusExit)
      throw new Error(`profiled status exited ${result.status}: ${result.stderr}`);
    const file = (await fs.readdir(dir)).find((name) => !before.has(name) && name.endsWith('.cpuprofile'));
    printProfile(path.join(dir, file));
  }
  console.log(`load average: ${loadAverage()}`);
} finally {
  await worker?.close().catch(() => undefined);
  workerConnection?.disconnect();
  await dashboard?.stop().catch(() => undefined);
  await queue?.close().catch(() => undefined);
  redis?.disconnect();
  await redisServer.stop();
  await fs.rm(work, { recursive: true, force: true });
}

/** Self time by function and by module of a .cpuprofile, the heaviest first. */
function printProfile(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const byFunction = new Map();
  const byModule = new Map();
  const moduleOf = (url) => {
    if (!url) return '(native, gc, idle)';
    const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (pnpm) return pnpm[1];
    const own = /\/(apps|packages)\/([^/]+)\//.exec(url);
    if (own) return `${own[1]}/${own[2]}`;
    return url.startsWith('node:') ? 'node internals' : url;
  };
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    const where = callFrame.url
      ? `${callFrame.url.replace(/^file:\/\//, '').replace(repo, '.')}:${callFrame.lineNumber + 1}`
      : '';
    const fn = `${callFrame.functionName || '(anonymous)'} ${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const module = moduleOf(callFrame.url);
    byModule.set(module, (byModule.get(module) ?? 0) + us);
  }
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name: name.slice(0, 110), 'self ms': Math.round(us / 1000) }));
  console.log(`\nCPU profile ${file}: ${Math.round(totalMs)} ms sampled`);
  console.table(top(byModule, 12));
  console.table(top(byFunction, 25));
}
