#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  findPgTool,
  overlapDecodePays,
  restoreBackup,
  runDrill,
  runDump,
  verifyBackup,
} from '@pgbackup/backup-core';
import { drillServerSettings, PostgresServer } from '../../test/harness/postgres-server.js';
import { trackDirectory } from '../../test/harness/reaper.js';
import { runSql } from '../../test/harness/sql.js';
import { plainEnv } from './baselines.js';
import { createDataset, dropDatabase } from './dataset.js';
import { connectionOf, numberFlag, probeLogger, serverVersion, stringFlag } from './probe-support.js';
import { cpuTimes, treeCpuMs } from './proc.js';
import { ratio, seconds, summarize, timeWithSpread } from './stats.js';

/**
 * Restore side by side, on one generated database (dataset.ts, the same rows as `pnpm bench`):
 * plain `pg_restore -d` of a `pg_dump -Fc` archive (one job, what a cron script's restore does)
 * against the service's restoreBackup and its drill, streamed (one job) and with
 * `pg_restore --jobs N` from the decoded archive (BACKUP_RESTORE_JOBS, default the cores), the
 * latter also the other way than this host's default: restored while the archive is decoded, or
 * decoded in full first (overlapDecodePays).
 * Each run restores into a new database, dropped afterwards; the variants are interleaved so
 * that a busy machine slows them alike, in the opposite order every other run. Prints a markdown
 * table.
 *
 *   pnpm --filter @pgbackup/bench run bench:restore -- [--size-mb 800] [--runs 3] [--jobs N]
 *     [--wal-levels replica[,minimal]]
 *
 * `--wal-levels replica,minimal` restores, in the same runs, into a second server set up as the
 * runbook's drill server (wal_level=minimal, no replicas): pg_restore --jobs then loads each table
 * it created in the transaction that truncates it, which PostgreSQL does not write to WAL at that
 * level, and builds indexes without WAL. One table per level, each against plain pg_restore into
 * the same server.
 */

const log = probeLogger('bench:restore');

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

const walLevelSettings = {
  replica: {},
  minimal: drillServerSettings,
} as const;
type WalLevel = keyof typeof walLevelSettings;

function walLevelsFlag(): WalLevel[] {
  const value = stringFlag('--wal-levels', 'replica');
  const levels = value.split(',').map((level) => level.trim());
  const unknown = levels.filter((level) => !(level in walLevelSettings));
  if (unknown.length > 0 || levels.length === 0) {
    throw new Error(
      `--wal-levels: expected replica, minimal or replica,minimal, got ${JSON.stringify(value)}`,
    );
  }
  return [...new Set(levels)] as WalLevel[];
}

const plainLabel = 'plain `pg_restore -d` (pg_dump -Fc archive, 1 job)';

async function main(): Promise<void> {
  const sizeMb = numberFlag('--size-mb', 800);
  const runs = Math.round(numberFlag('--runs', 3));
  const jobs = Math.round(numberFlag('--jobs', os.availableParallelism()));
  const levels = walLevelsFlag();
  const servers = new Map<WalLevel, PostgresServer>();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-bench-restore-'));
  trackDirectory(workDir);
  try {
    for (const level of levels) {
      servers.set(level, await PostgresServer.start({ settings: walLevelSettings[level] }));
    }
    // The dataset lives on the first server; every restore goes into a new database on its own.
    const postgres = servers.get(levels[0]!)!;
    const adminUrl = postgres.url();
    const major = Number.parseInt(await serverVersion(adminUrl), 10);
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
    const source = connectionOf(postgres.url(dataset.database));
    const plainFile = path.join(workDir, 'plain.dump');
    execFileSync(pgDump.path, ['-Fc', '-f', plainFile, '-d', postgres.url(dataset.database)], {
      env: plainEnv(),
    });
    const backupDir = path.join(workDir, 'backups');
    const logDir = path.join(workDir, 'logs');
    mkdirSync(backupDir);
    const { manifest } = await runDump({
      target: { name: 'bench', connection: source, compression: 'zstd', suspiciousRatio: 0 },
      backupDir,
      logDir,
    });
    // The drill takes the newest verified backup.
    await verifyBackup({ backupDir, id: manifest.id, level: 'checksum' });
    log(`backup ${manifest.id}: ${(manifest.sizeBytes / 1024 / 1024).toFixed(0)} MB (zstd)`);

    // Per wal_level, then per variant: wall times, and the CPU time of this process and the
    // children it reaped (pg_restore, zstd) and of that PostgreSQL's process tree around each
    // variant: on a busy machine these move less than wall times.
    const times = new Map<WalLevel, Record<string, number[]>>();
    const cpu = new Map<WalLevel, Record<string, { client: number[]; server: number[] }>>();
    let serial = 0;
    const database = () => `bench_restored_${serial++}`;
    const stepsOf = (level: WalLevel): (() => Promise<void>)[] => {
      const target = servers.get(level)!;
      const targetAdminUrl = target.url();
      const server = connectionOf(targetAdminUrl);
      const postmasterPid = target.pid!;
      const levelTimes: Record<string, number[]> = {};
      const levelCpu: Record<string, { client: number[]; server: number[] }> = {};
      times.set(level, levelTimes);
      cpu.set(level, levelCpu);
      let before = { client: 0, server: 0 };
      const cpuNow = () => {
        const self = process.cpuUsage();
        return {
          client: cpuTimes('self').childrenMs + (self.user + self.system) / 1000,
          server: treeCpuMs(postmasterPid),
        };
      };
      const startCpu = () => {
        before = cpuNow();
      };
      const record = (label: string, ms: number) => {
        const after = cpuNow();
        levelTimes[label] ??= [];
        levelTimes[label].push(ms);
        levelCpu[label] ??= { client: [], server: [] };
        levelCpu[label].client.push(after.client - before.client);
        levelCpu[label].server.push(after.server - before.server);
        log(`wal_level ${level}: ${label}: ${(ms / 1000).toFixed(1)} s`);
      };
      const plain = async () => {
        const into = database();
        await runSql(targetAdminUrl, `CREATE DATABASE ${into} TEMPLATE template0`);
        startCpu();
        record(
          plainLabel,
          await timed(async () =>
            execFileSync(pgRestore.path, ['-d', target.url(into), plainFile], { env: plainEnv() }),
          ),
        );
        await dropDatabase(targetAdminUrl, into);
      };
      const service = (label: string, options: { jobs: number; overlapDecode?: boolean }) => async () => {
        const into = database();
        startCpu();
        record(
          `service restore (restoreBackup, ${label})`,
          await timed(() =>
            restoreBackup({
              backupDir,
              logDir,
              id: manifest.id,
              to: { ...server, database: into },
              ...options,
            }),
          ),
        );
        await dropDatabase(targetAdminUrl, into);
      };
      const drill = (label: string, n: number) => async () => {
        startCpu();
        const result = await runDrill({ backupDir, target: 'bench', server, jobs: n });
        record(`drill (runDrill, ${label})`, result.drill.restoreMs);
      };
      return [
        plain,
        service('streamed, 1 job', { jobs: 1 }),
        drill('streamed, 1 job', 1),
        service(`--jobs ${jobs}`, { jobs }),
        drill(`--jobs ${jobs}`, jobs),
        // The same parallel restore the other way than this host's default (overlapDecodePays):
        // restored while the archive is decoded, or decoded in full before pg_restore --jobs starts.
        service(
          `--jobs ${jobs}, ${overlapDecodePays() ? 'decoded in full first' : 'restored while decoding'}`,
          {
            jobs,
            overlapDecode: !overlapDecodePays(),
          },
        ),
      ];
    };
    const steps = levels.flatMap(stepsOf);
    for (let run = 1; run <= runs; run++) {
      // Every other run in the opposite order: what a restore leaves behind (autovacuum of its
      // tables, dirty pages) slowed the next one by about 0.7 s, which would favour whichever
      // variant always came second.
      for (const step of run % 2 === 1 ? steps : [...steps].reverse()) await step();
    }
    const load = os
      .loadavg()
      .map((value) => value.toFixed(1))
      .join(' ');
    console.log(
      `Restore of ${(dataset.sizeBytes / 1024 / 1024).toFixed(0)} MB (backup ${(manifest.sizeBytes / 1024 / 1024).toFixed(0)} MB zstd), ${runs} run(s), ${os.availableParallelism()} cores, load average ${load} (1, 5, 15 min) at the end, median (min-max):`,
    );
    for (const level of levels) {
      const levelTimes = times.get(level)!;
      const levelCpu = cpu.get(level)!;
      const reference = summarize(levelTimes[plainLabel]!)!.median;
      console.log(
        `\nInto a server at wal_level ${level}${level === 'minimal' ? " (max_wal_senders 0: the runbook's drill server)" : " (PostgreSQL's default)"}:\n`,
      );
      console.log(
        '| restore | wall | vs plain | vs plain in the same run: median (min-max) | client CPU | server CPU |\n|---|---|---|---|---|---|',
      );
      const plainTimes = levelTimes[plainLabel]!;
      for (const [label, values] of Object.entries(levelTimes)) {
        const summary = summarize(values);
        // Each run holds one of each variant (values[i] and plainTimes[i] are run i's): a ratio
        // within a run is steadier than the ratio of medians when the host's speed drifts.
        const perRun = summarize(values.map((value, run) => value / plainTimes[run]!));
        const client = summarize(levelCpu[label]!.client)?.median ?? 0;
        const serverCpu = summarize(levelCpu[label]!.server)?.median ?? 0;
        console.log(
          `| ${label} | ${timeWithSpread(summary)} | ${ratio(summary?.median, reference)} | ${perRun ? `${perRun.median.toFixed(2)}x (${perRun.min.toFixed(2)}-${perRun.max.toFixed(2)}x)` : 'n/a'} | ${seconds(client)} | ${seconds(serverCpu)} |`,
        );
      }
    }
  } finally {
    for (const server of servers.values()) await server.destroy().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
