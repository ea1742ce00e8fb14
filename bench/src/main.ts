#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPgTool } from '@pgbackup/backup-core';
import { PostgresServer } from '../../test/harness/postgres-server.js';
import { trackDirectory } from '../../test/harness/reaper.js';
import { RedisServer } from '../../test/harness/redis-server.js';
import { PlainCommands } from './baselines.js';
import { benchCatalogListing, benchPrunePlanning } from './catalog-bench.js';
import { createDataset, type DatasetKind, dropDatabase } from './dataset.js';
import { describeMachine, type Machine, machineLoad } from './machine.js';
import { measureSize, type SizeResult } from './measure-size.js';
import { type BenchOptions, parseOptions, usage } from './options.js';
import { serverVersion } from './probe-support.js';
import { cpuTimes, machineCpuMs } from './proc.js';
import { summarizeProfile } from './profile.js';
import { type ProfileRun, renderReport } from './report.js';
import type { Measurement } from './sample.js';
import { createSmallDatabase, measureSmallDatabase, SMALL_DATABASE, type SmallResult } from './small-db.js';
import { summarize } from './stats.js';
import { checkTargets } from './targets.js';
import { WorkerSetup } from './worker-jobs.js';

// dist/bench/src/main.js (or src/main.ts) -> the repository root.
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../../..' : '../..');
const workerEntry = path.join(root, 'apps/worker/dist/main.js');

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function checkDisk(dir: string, sizeMb: number): void {
  const stats = statfsSync(dir);
  const freeMb = (stats.bavail * stats.bsize) / 1024 / 1024;
  // The database, the two plain archives and a few backups per worker configuration.
  const neededMb = sizeMb * 4;
  if (freeMb < neededMb) {
    throw new Error(
      `${dir} has ${Math.round(freeMb)} MB free; --size-mb ${sizeMb} needs about ${neededMb} MB`,
    );
  }
}

interface Measured {
  machine: Machine;
  sizes: SizeResult[];
  small: SmallResult | undefined;
  profiles: ProfileRun[];
}

/** Starts the servers, measures every size, stops the servers (also on failure). */
async function measureDumps(options: BenchOptions): Promise<Measured> {
  const postgres = await PostgresServer.start();
  const redis = await RedisServer.start();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-bench-'));
  trackDirectory(workDir);
  try {
    const adminUrl = postgres.url();
    const urlOf = (database: string) => postgres.url(database);
    const postmasterPid = postgres.pid!;
    const version = await serverVersion(adminUrl);
    const major = Number.parseInt(version, 10);
    const [pgDump, pgRestore] = await Promise.all([
      findPgTool('pg_dump', major),
      findPgTool('pg_restore', major),
    ]);
    const machine = describeMachine(version, pgDump.path);
    log(
      `PostgreSQL ${version} on port ${postgres.port}, ${pgDump.path}, Redis on port ${redis.port}, in ${workDir}`,
    );

    const keyFile = path.join(workDir, 'operator.key');
    writeFileSync(keyFile, execFileSync('openssl', ['rand', '-hex', '32']), { mode: 0o600 });
    const plainDir = path.join(workDir, 'plain');
    mkdirSync(plainDir);
    const durableWriter = path.join(here, 'durable-writer.js');
    const tools = { pgDump: pgDump.path, pgRestore: pgRestore.path, durableWriter };
    const plain = new PlainCommands(tools, postmasterPid, plainDir);

    let small: SmallResult | undefined;
    if (options.datasets.includes('small')) {
      log(`small database ${SMALL_DATABASE} (the load test's schema)`);
      await createSmallDatabase(adminUrl, urlOf);
      small = await measureSmallDatabase({
        runs: options.runs,
        urlOf,
        redisUrl: redis.url,
        postmasterPid,
        plain,
        workerEntry,
        workDir,
        log,
      });
      await dropDatabase(adminUrl, SMALL_DATABASE);
    }

    // The quarter size (memory growth) of the mixed dataset only; the narrow one at full size.
    const plan: Array<{ kind: DatasetKind; sizeMb: number }> = [];
    for (const kind of options.datasets) {
      if (kind === 'small') continue;
      if (kind === 'mixed' && options.quarter) plan.push({ kind, sizeMb: options.sizeMb / 4 });
      plan.push({ kind, sizeMb: options.sizeMb });
    }
    const results: SizeResult[] = [];
    const profiles: ProfileRun[] = [];
    const lastMixed = plan.map((entry) => entry.kind).lastIndexOf('mixed');
    for (const [index, { kind, sizeMb }] of plan.entries()) {
      const database = `bench_${index}`;
      log(`generating ${sizeMb} MB of ${kind} rows in ${database}`);
      const dataset = await createDataset({
        kind,
        adminUrl,
        urlOf,
        database,
        sizeMb,
        seed: options.seed,
        parallel: Math.max(1, os.cpus().length),
        log,
      });
      log(
        `dataset: ${(dataset.sizeBytes / 1024 / 1024).toFixed(0)} MB in ${(dataset.generationMs / 1000).toFixed(0)} s`,
      );
      const setupDir = path.join(workDir, `size-${index}`);
      const common = {
        entry: workerEntry,
        workDir: setupDir,
        databaseUrl: urlOf(database),
        redisUrl: redis.url,
      };
      const workers = {
        plain: await WorkerSetup.create({ ...common, label: 'default' }),
        encrypted: await WorkerSetup.create({ ...common, label: 'encrypted', encryptionKeyFile: keyFile }),
      };
      try {
        const context = {
          runs: options.runs,
          dataset,
          sizeMb,
          adminUrl,
          urlOf,
          postmasterPid,
          plain,
          workers,
          log,
        };
        const result = await measureSize(context);
        results.push(result);
        result.workerPeaks = {
          default: workers.plain.lifetimePeakBytes,
          encrypted: workers.encrypted.lifetimePeakBytes,
        };
        if (options.profile && index === lastMixed) {
          for (const setup of [workers.plain, workers.encrypted]) {
            const profileDir = path.join(setupDir, `profile-${setup.label}`);
            mkdirSync(profileDir);
            log(`profiling a ${setup.label} dump job (node --cpu-prof)`);
            const run = await setup.dumpProfiled(postmasterPid, profileDir);
            profiles.push({
              label: `${setup.label} dump job`,
              wallMs: run.sample.wallMs,
              summary: summarizeProfile(profileDir, ...run.window),
            });
          }
        }
      } finally {
        await workers.plain.close();
        await workers.encrypted.close();
        rmSync(setupDir, { recursive: true, force: true });
        await dropDatabase(adminUrl, database);
      }
    }
    return { machine, sizes: results, small, profiles };
  } finally {
    await redis.destroy().catch(() => undefined);
    await postgres.destroy().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

function medianWall(measurement: Measurement): number {
  return summarize(measurement.samples.map((sample) => sample.wallMs))!.median;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return;
  }
  const options = parseOptions(args);
  if (!existsSync(workerEntry)) throw new Error(`${workerEntry} is missing: run \`pnpm build\` first`);
  checkDisk(os.tmpdir(), options.sizeMb);
  const startedAt = new Date();
  const loadBefore = await machineLoad();
  log(`load average ${loadBefore.loadavg.join(' ')}; busiest: ${loadBefore.busiest.join(', ') || 'nothing'}`);
  const machineBefore = machineCpuMs();
  const ownBefore = cpuTimes('self');

  const measured = await measureDumps(options);
  log('prune planning and catalog listing');
  const catalog = [
    ...benchPrunePlanning(Math.max(options.runs, 3)),
    ...(await benchCatalogListing(Math.max(options.runs, 3))),
  ];

  // Every server and worker has exited and been reaped by now: this process's own and children
  // time is all the CPU the benchmark used; the rest of the machine's busy time was other work.
  const machineAfter = machineCpuMs();
  const ownAfter = cpuTimes('self');
  const ownMs = ownAfter.selfMs + ownAfter.childrenMs - ownBefore.selfMs - ownBefore.childrenMs;
  const otherCores =
    Math.max(0, machineAfter.busyMs - machineBefore.busyMs - ownMs) / (Date.now() - startedAt.getTime());

  const pruneMedians = catalog.filter((m) => m.key.startsWith('prune-')).map(medianWall);
  const targets = checkTargets(measured.sizes, measured.small, pruneMedians);
  const envPrefix = ['BENCH_SIZE_MB', 'BENCH_DATASETS']
    .filter((name) => process.env[name])
    .map((name) => `${name}=${process.env[name]}`);
  const report = renderReport({
    options,
    command: [
      ...envPrefix,
      'pnpm bench',
      ...(args.some((arg) => arg !== '--') ? ['--', ...args.filter((arg) => arg !== '--')] : []),
    ].join(' '),
    startedAt,
    finishedAt: new Date(),
    machine: measured.machine,
    loadBefore,
    loadAfter: await machineLoad(),
    otherCores,
    sizes: measured.sizes,
    small: measured.small,
    catalog,
    profiles: measured.profiles,
    targets,
  });
  const out = options.out ? path.resolve(options.out) : path.join(root, 'docs/benchmarks.md');
  writeFileSync(out, report);
  log(`report written to ${out}; other work used ${otherCores.toFixed(2)} cores on average during the run`);
  for (const check of targets) {
    log(
      `${check.met === undefined ? 'n/a   ' : check.met ? 'met   ' : 'MISSED'} ${check.target}: ${check.measured}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
});
