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
import { PostgresServer } from '../../test/harness/postgres-server.js';
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
 *     [--wal-level replica|minimal]
 *
 * `--wal-level minimal` starts the server as the runbook's dedicated drill server (no replicas):
 * pg_restore --jobs then loads each table it created in the transaction that truncates it, which
 * PostgreSQL does not write to WAL at that level; single-job pg_restore -d gains nothing from it.
 */

const log = probeLogger('bench:restore');

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const sizeMb = numberFlag('--size-mb', 800);
  const runs = Math.round(numberFlag('--runs', 3));
  const jobs = Math.round(numberFlag('--jobs', os.availableParallelism()));
  const walLevel = stringFlag('--wal-level', 'replica');
  if (walLevel !== 'replica' && walLevel !== 'minimal') {
    throw new Error(`--wal-level: expected replica or minimal, got ${JSON.stringify(walLevel)}`);
  }
  const postgres = await PostgresServer.start({
    settings: walLevel === 'minimal' ? { wal_level: 'minimal', max_wal_senders: '0' } : {},
  });
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-bench-restore-'));
  trackDirectory(workDir);
  try {
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

    const server = connectionOf(adminUrl);
    const postmasterPid = postgres.pid!;
    const times: Record<string, number[]> = {};
    // CPU time of this process and the children it reaped (pg_restore, zstd), and of PostgreSQL's
    // process tree, around each variant: on a busy machine these move less than wall times.
    const cpu: Record<string, { client: number[]; server: number[] }> = {};
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
      times[label] ??= [];
      times[label].push(ms);
      cpu[label] ??= { client: [], server: [] };
      cpu[label].client.push(after.client - before.client);
      cpu[label].server.push(after.server - before.server);
      log(`${label}: ${(ms / 1000).toFixed(1)} s`);
    };
    let serial = 0;
    const database = () => `bench_restored_${serial++}`;
    const plain = async () => {
      const into = database();
      await runSql(adminUrl, `CREATE DATABASE ${into} TEMPLATE template0`);
      startCpu();
      record(
        'plain `pg_restore -d` (pg_dump -Fc archive, 1 job)',
        await timed(async () =>
          execFileSync(pgRestore.path, ['-d', postgres.url(into), plainFile], { env: plainEnv() }),
        ),
      );
      await dropDatabase(adminUrl, into);
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
      await dropDatabase(adminUrl, into);
    };
    const drill = (label: string, n: number) => async () => {
      startCpu();
      const result = await runDrill({ backupDir, target: 'bench', server, jobs: n });
      record(`drill (runDrill, ${label})`, result.drill.restoreMs);
    };
    const steps = [
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
    for (let run = 1; run <= runs; run++) {
      // Every other run in the opposite order: what a restore leaves behind (autovacuum of its
      // tables, dirty pages) slowed the next one by about 0.7 s, which would favour whichever
      // variant always came second.
      for (const step of run % 2 === 1 ? steps : [...steps].reverse()) await step();
    }
    const reference = summarize(times['plain `pg_restore -d` (pg_dump -Fc archive, 1 job)']!)!.median;
    const load = os
      .loadavg()
      .map((value) => value.toFixed(1))
      .join(' ');
    console.log(
      `Restore of ${(dataset.sizeBytes / 1024 / 1024).toFixed(0)} MB (backup ${(manifest.sizeBytes / 1024 / 1024).toFixed(0)} MB zstd), ${runs} run(s), ${os.availableParallelism()} cores, server wal_level ${walLevel}, load average ${load} (1, 5, 15 min) at the end, median (min-max):\n`,
    );
    console.log('| restore | wall | vs plain | client CPU | server CPU |\n|---|---|---|---|---|');
    for (const [label, values] of Object.entries(times)) {
      const summary = summarize(values);
      const client = summarize(cpu[label]!.client)?.median ?? 0;
      const serverCpu = summarize(cpu[label]!.server)?.median ?? 0;
      console.log(
        `| ${label} | ${timeWithSpread(summary)} | ${ratio(summary?.median, reference)} | ${seconds(client)} | ${seconds(serverCpu)} |`,
      );
    }
  } finally {
    await postgres.destroy().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
