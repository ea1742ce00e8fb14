#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findPgTool, loadOperatorKey, runDump, verifyBackup } from '@pgbackup/backup-core';
import { PostgresServer } from '../../test/harness/postgres-server.js';
import { trackDirectory } from '../../test/harness/reaper.js';
import { plainEnv } from './baselines.js';
import { createDataset, type DatasetKind } from './dataset.js';
import { connectionOf, numberFlag, probeLogger, serverVersion, stringFlag } from './probe-support.js';
import { cpuTimes } from './proc.js';
import { ratio, seconds, summarize, timeWithSpread } from './stats.js';

/**
 * Issue 18's verify goal, quickly: `verifyBackup` at each level on one backup (the dump job's own
 * file, zstd, unencrypted and encrypted) against `zstd -dc file | pg_restore -f /dev/null` of that
 * same file, interleaved round by round so that a busy machine slows them alike. Wall clock and
 * CPU (this process plus its reaped children: zstd, pg_restore). Prints a markdown table.
 *
 *   pnpm --filter @pgbackup/bench run probe:verify-read -- [--size-mb 200] [--runs 3] [--kind narrow]
 */

const log = probeLogger('probe:verify-read');

function cpuMs(): number {
  const times = cpuTimes('self');
  return times.selfMs + times.childrenMs;
}

async function main(): Promise<void> {
  const sizeMb = numberFlag('--size-mb', 200);
  const runs = Math.round(numberFlag('--runs', 3));
  const kind = stringFlag('--kind', 'narrow') as DatasetKind;
  if (kind !== 'narrow' && kind !== 'mixed') throw new Error('--kind expects narrow or mixed');
  const postgres = await PostgresServer.start();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-probe-verify-'));
  trackDirectory(workDir);
  try {
    const adminUrl = postgres.url();
    const version = await serverVersion(adminUrl);
    const pgRestore = await findPgTool('pg_restore', Number.parseInt(version, 10));
    log(`generating ${sizeMb} MB (${kind} rows)`);
    const dataset = await createDataset({
      kind,
      adminUrl,
      urlOf: (database) => postgres.url(database),
      database: 'probe_verify',
      sizeMb,
      seed: 0.42,
      parallel: os.availableParallelism(),
      log,
    });
    const source = connectionOf(postgres.url(dataset.database));
    const keyFile = path.join(workDir, 'key');
    execFileSync('sh', ['-c', 'umask 077; openssl rand -hex 32 > "$1"', 'probe', keyFile]);
    const key = await loadOperatorKey(keyFile);
    const backups: Record<string, { dir: string; id: string; file: string; bytes: number }> = {};
    for (const variant of ['plain', 'encrypted'] as const) {
      const dir = path.join(workDir, variant);
      mkdirSync(dir);
      const { manifest, filePath } = await runDump({
        target: { name: 'probe', connection: source, compression: 'zstd', suspiciousRatio: 0 },
        backupDir: dir,
        logDir: path.join(workDir, `${variant}-logs`),
        ...(variant === 'encrypted' ? { encryptionKey: key } : {}),
      });
      backups[variant] = { dir, id: manifest.id, file: filePath, bytes: manifest.sizeBytes };
      log(`${variant} backup: ${(manifest.sizeBytes / 1024 / 1024).toFixed(1)} MB`);
    }

    const times = new Map<string, { wall: number[]; cpu: number[] }>();
    const record = async (label: string, run: () => Promise<unknown> | unknown) => {
      const cpuBefore = cpuMs();
      const started = performance.now();
      await run();
      const wall = performance.now() - started;
      const entry = times.get(label) ?? { wall: [], cpu: [] };
      entry.wall.push(wall);
      entry.cpu.push(cpuMs() - cpuBefore);
      times.set(label, entry);
      log(`  ${label}: ${seconds(wall)}`);
    };
    const plainLabel = '`zstd -dc file | pg_restore -f /dev/null` (the reference)';
    const plain = backups.plain!;
    const encrypted = backups.encrypted!;
    const reference = () =>
      record(plainLabel, () =>
        execFileSync(
          'bash',
          ['-o', 'pipefail', '-c', 'zstd -dc "$1" | "$2" -f /dev/null', 'probe', plain.file, pgRestore.path],
          { env: plainEnv() },
        ),
      );
    const verifications = async () => {
      for (const level of ['read', 'list', 'checksum'] as const) {
        await record(`verifyBackup, level ${level}`, () =>
          verifyBackup({ backupDir: plain.dir, id: plain.id, level, record: false }),
        );
      }
      await record('verifyBackup, level read, encrypted backup', () =>
        verifyBackup({
          backupDir: encrypted.dir,
          id: encrypted.id,
          level: 'read',
          record: false,
          keyring: [key],
        }),
      );
    };
    for (let round = 1; round <= runs; round++) {
      log(`round ${round}/${runs}`);
      // The reference first in odd rounds, last in even ones: neither side always follows the other.
      if (round % 2 === 1) await reference();
      await verifications();
      if (round % 2 === 0) await reference();
    }
    const referenceMs = summarize(times.get(plainLabel)!.wall)!.median;
    console.log(
      `verify against the plain full read: ${kind} rows, database ${(dataset.sizeBytes / 1024 / 1024).toFixed(0)} MB, backup ${(backups.plain!.bytes / 1024 / 1024).toFixed(1)} MB (zstd), ${runs} round(s), median (min-max), load average at the end ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(', ')}\n`,
    );
    console.log('| measurement | wall | vs the reference | CPU (Node + children) |\n|---|---|---|---|');
    for (const [label, { wall, cpu }] of times) {
      const summary = summarize(wall);
      console.log(
        `| ${label} | ${timeWithSpread(summary)} | ${ratio(summary?.median, referenceMs)} | ${seconds(summarize(cpu)!.median)} |`,
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
