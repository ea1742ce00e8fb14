// The service's parallel restore taken apart phase by phase (issue 16), beside plain pg_restore,
// on one generated database (the `pnpm bench` dataset): wall time, client CPU (this process and
// the children it reaped) and server CPU (the PostgreSQL process tree) of each step, the steps
// interleaved run by run. Prints a markdown table and, for the last run, the timeline of the
// `pg_restore --jobs` run (its --verbose lines, timestamped).
// Run (after the build): pnpm --filter @pgbackup/bench run probe:restore-phases [-- --size-mb 200 --runs 3 --jobs 2]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findPgTool, restoreBackup, runDump, verifyBackup } from '@pgbackup/backup-core';
import pg from 'pg';
import { plainEnv } from '../dist/bench/src/baselines.js';
import { createDataset, dropDatabase } from '../dist/bench/src/dataset.js';
import { cpuTimes, treeCpuMs } from '../dist/bench/src/proc.js';
import { summarize, timeWithSpread } from '../dist/bench/src/stats.js';
import { PostgresServer } from '../dist/test/harness/postgres-server.js';
import { trackDirectory } from '../dist/test/harness/reaper.js';

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    jobs: { type: 'string', default: String(os.availableParallelism()) },
  },
});
const sizeMb = Number(values['size-mb']);
const runs = Number(values.runs);
const jobs = Number(values.jobs);
const log = (message) =>
  console.error(`[probe:restore-phases ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** Runs a program to completion; resolves with its stderr lines, each with its offset in ms. */
function run(program, args, env, { timeline = false } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const lines = [];
    let tail = '';
    child.stderr.setEncoding('utf8').on('data', (text) => {
      tail = (tail + text).slice(-4000);
      if (timeline)
        for (const line of text.split('\n').filter(Boolean))
          lines.push(`${((performance.now() - started) / 1000).toFixed(2)} s ${line}`);
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve(lines) : reject(new Error(`${program} exited ${code ?? signal}: ${tail}`)),
    );
  });
}

async function query(url, sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

const postgres = await PostgresServer.start();
const workDir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-restore-phases-'));
trackDirectory(workDir);
try {
  const adminUrl = postgres.url();
  const postmaster = postgres.pid;
  const major = Number.parseInt((await query(adminUrl, 'SHOW server_version'))[0].server_version, 10);
  const [pgDump, pgRestore] = await Promise.all([
    findPgTool('pg_dump', major),
    findPgTool('pg_restore', major),
  ]);
  log(`generating ${sizeMb} MB`);
  const dataset = await createDataset({
    kind: 'mixed',
    adminUrl,
    urlOf: (database) => postgres.url(database),
    database: 'bench_restore',
    sizeMb,
    seed: 0.42,
    parallel: os.availableParallelism(),
    log,
  });
  const plainFile = path.join(workDir, 'plain.dump');
  execFileSync(pgDump.path, ['-Fc', '-f', plainFile, '-d', postgres.url(dataset.database)], {
    env: plainEnv(),
  });
  const backupDir = path.join(workDir, 'backups');
  mkdirSync(backupDir);
  const url = new URL(postgres.url(dataset.database));
  const { manifest, filePath } = await runDump({
    target: {
      name: 'bench',
      connection: {
        host: url.hostname,
        port: Number(url.port),
        user: 'postgres',
        database: dataset.database,
      },
      compression: 'zstd',
      suspiciousRatio: 0,
    },
    backupDir,
    logDir: path.join(workDir, 'logs'),
  });
  const decoded = path.join(workDir, 'decoded.dump');
  log(`backup ${manifest.id}: ${(manifest.sizeBytes / 1048576).toFixed(0)} MB zstd`);

  const rows = {};
  const order = [];
  let timeline = [];
  async function step(label, fn) {
    const client = cpuTimes('self');
    const self = process.cpuUsage();
    const server = treeCpuMs(postmaster);
    const started = performance.now();
    const result = await fn();
    const wallMs = performance.now() - started;
    const after = cpuTimes('self');
    const selfUsage = process.cpuUsage(self);
    const sample = {
      wallMs,
      clientMs: after.childrenMs - client.childrenMs + (selfUsage.user + selfUsage.system) / 1000,
      serverMs: treeCpuMs(postmaster) - server,
    };
    if (!rows[label]) {
      rows[label] = [];
      order.push(label);
    }
    rows[label].push(sample);
    log(`${label}: ${(wallMs / 1000).toFixed(2)} s`);
    return result;
  }
  let serial = 0;
  const fresh = async () => {
    const name = `restored_${serial++}`;
    await query(adminUrl, `CREATE DATABASE ${name} TEMPLATE template0`);
    return name;
  };
  const restoreArgs = (into, extra) => ['--exit-on-error', '-d', postgres.url(into), ...extra];
  const counts = (into) =>
    query(
      postgres.url(into),
      `SELECT ${['customers', 'orders', 'events', 'comments', 'attachments'].map((t) => `(SELECT count(*) FROM ${t})`).join(', ')}`,
    );
  for (let r = 1; r <= runs; r++) {
    let into = await fresh();
    await step('plain pg_restore -d (pg_dump -Fc archive, 1 job)', () =>
      run(pgRestore.path, restoreArgs(into, [plainFile]), plainEnv()),
    );
    await dropDatabase(adminUrl, into);
    into = await fresh();
    await step(`plain pg_restore -d --jobs ${jobs} (pg_dump -Fc archive)`, () =>
      run(pgRestore.path, restoreArgs(into, ['--jobs', String(jobs), plainFile]), plainEnv()),
    );
    await dropDatabase(adminUrl, into);
    await step('checksum pass of its own (restoreBackup before aeef0d1; now hashed while decoding)', () =>
      verifyBackup({ backupDir, id: manifest.id, level: 'checksum', record: false }),
    );
    await step('decode to a temporary file (zstd -dc > file)', () =>
      run('sh', ['-c', `zstd -dc -q '${filePath}' > '${decoded}'`], process.env),
    );
    into = await fresh();
    const lines = await step(`pg_restore --jobs ${jobs} of the decoded file`, () =>
      run(pgRestore.path, restoreArgs(into, ['--verbose', '--jobs', String(jobs), decoded]), plainEnv(), {
        timeline: true,
      }),
    );
    timeline = lines.filter((line) =>
      /launching|finished item|processing item \d+ (TABLE DATA|CONSTRAINT|INDEX)/.test(line),
    );
    await step('row counts after it (count(*) of each table)', () => counts(into));
    await step('row counts again (hint bits now set)', () => counts(into));
    await dropDatabase(adminUrl, into);
    into = await fresh();
    await step(
      `pg_restore --jobs ${jobs} of the decoded file, PGOPTIONS maintenance_work_mem=256MB synchronous_commit=off`,
      () =>
        run(pgRestore.path, restoreArgs(into, ['--jobs', String(jobs), decoded]), {
          ...plainEnv(),
          PGOPTIONS: '-c maintenance_work_mem=256MB -c synchronous_commit=off',
        }),
    );
    await step('row counts of that restore', () => counts(into));
    await dropDatabase(adminUrl, into);
    rmSync(decoded, { force: true });
    into = `restored_${serial++}`;
    await step(`restoreBackup --jobs ${jobs} (the whole service restore, this commit)`, () =>
      restoreBackup({
        backupDir,
        logDir: path.join(workDir, 'logs'),
        id: manifest.id,
        to: { host: url.hostname, port: Number(url.port), user: 'postgres', database: into },
        jobs,
      }),
    );
    await dropDatabase(adminUrl, into);
  }
  console.log(
    `Restore phases, ${(dataset.sizeBytes / 1048576).toFixed(0)} MB database (backup ${(manifest.sizeBytes / 1048576).toFixed(0)} MB zstd), ${runs} run(s), ${os.availableParallelism()} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end, median (min-max):\n`,
  );
  console.log('| step | wall | client CPU | server CPU |\n|---|---|---|---|');
  const median = (list, key) => summarize(list.map((s) => s[key])).median;
  for (const label of order) {
    const list = rows[label];
    console.log(
      `| ${label} | ${timeWithSpread(summarize(list.map((s) => s.wallMs)))} | ${(median(list, 'clientMs') / 1000).toFixed(2)} s | ${(median(list, 'serverMs') / 1000).toFixed(2)} s |`,
    );
  }
  console.log(`\nLast run's pg_restore --jobs ${jobs} timeline:\n\n\`\`\`\n${timeline.join('\n')}\n\`\`\``);
} finally {
  await postgres.destroy().catch(() => undefined);
  rmSync(workDir, { recursive: true, force: true });
}
