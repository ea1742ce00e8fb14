import { rmSync } from 'node:fs';
import { type PlainCommands, syncMs } from './baselines.js';
import type { Dataset, DatasetKind } from './dataset.js';
import { measureRowCounts } from './row-counts.js';
import { addSample, type Measurement, type Sample } from './sample.js';
import type { WorkerSetup } from './worker-jobs.js';

/** How often the diagnostic writer flushes, in MB. */
export const FLUSH_MB = 16;

/** The rows of the results table, in order, numbered as in the issue. */
export const rows = {
  floor: {
    key: 'floor',
    label: '(0) pg_dump -Z0, no compression (the floor)',
    command: 'pg_dump -Fc -Z0 | wc -c',
  },
  plain: {
    key: 'plain',
    label: '(1) plain pg_dump (zlib, what cron scripts do)',
    command: 'pg_dump -Fc -f file',
  },
  piped: {
    key: 'piped',
    label: '(2) fastest shell pipeline',
    command: 'bash -o pipefail -c "pg_dump -Fc -Z0 | zstd -1 -T0 > file"',
  },
  job: {
    key: 'job',
    label: '(3) dump job through the worker (zstd, SHA-256, fsync, manifest)',
    command: 'enqueueDump(queue, { target }) until completed',
  },
  jobEncrypted: {
    key: 'job-enc',
    label: '(4) the same, encrypted (AES-256-GCM chunks)',
    command: 'same, with BACKUP_ENCRYPTION_KEY_FILE',
  },
  verifyRead: {
    key: 'verify-read',
    label: '(5a) verify job, level read, on the backup of (3)',
    command: "enqueueVerify(queue, { backupId, level: 'read' })",
  },
  readPlain: {
    key: 'read-plain',
    label: '(5b) plain full read of the file of (1)',
    command: 'pg_restore -f /dev/null <file of (1)>',
  },
  readPiped: {
    key: 'read-piped',
    label: '(5c) plain full read of the file of (2)',
    command: 'zstd -dc <file of (2)> | pg_restore -f /dev/null',
  },
  verifyRestore: {
    key: 'verify-restore',
    label: '(5d) verify job, level restore, on the backup of (3)',
    command: "enqueueVerify(queue, { backupId, level: 'restore' })",
  },
  restorePlain: {
    key: 'restore-plain',
    label: '(5e) plain restore of the file of (1) into a new database',
    command: 'createdb + pg_restore -d <new db> <file of (1)>',
  },
} as const;

/** Diagnostics: not something a user runs, but where the dump job's extra time goes. */
export const diagnosticRows = {
  pipedDurable: {
    key: 'piped-durable',
    label: '(2) into Node as the worker does it: SHA-256, write stream, fsync at the end',
    command: 'pg_dump -Fc -Z0 | zstd -1 -T0 | node durable-writer.js file 0',
  },
  pipedFlushing: {
    key: 'piped-flushing',
    label: `the same, writing the file out every ${FLUSH_MB} MB while dumping (fdatasync in the background)`,
    command: `pg_dump -Fc -Z0 | zstd -1 -T0 | node durable-writer.js file ${FLUSH_MB}`,
  },
  countsParallel: {
    key: 'counts-parallel',
    label: "the dump job's row counts alone, PostgreSQL's default plan",
    command: 'count(*) of each table in a REPEATABLE READ transaction',
  },
  countsSerial: {
    key: 'counts-serial',
    label: 'the same with max_parallel_workers_per_gather = 0',
    command: 'SET LOCAL max_parallel_workers_per_gather = 0; count(*) ...',
  },
} as const;

/**
 * Rows left out on the narrow dataset: they measure pg_dump's zlib and pg_restore into a
 * database, not the dump job's cost beyond the pipeline, and take most of a round's time.
 */
const mixedOnly = new Set<string>([
  rows.plain.key,
  rows.readPlain.key,
  rows.verifyRestore.key,
  rows.restorePlain.key,
]);

export function measuredOn(kind: DatasetKind, key: string): boolean {
  return kind === 'mixed' || !mixedOnly.has(key);
}

export interface SizeResult {
  kind: DatasetKind;
  sizeMb: number;
  dataset: Dataset;
  measurements: Map<string, Measurement>;
  /** Duration of the checksum verification each dump job chains (not part of the job's time). */
  chainVerifyMs: number[];
  /** Parallel workers PostgreSQL plans for a count(*) of one of the big tables. */
  countWorkersPlanned: number;
  /** Lifetime VmHWM of each worker process (default, encrypted), start-up and every job included. */
  workerPeaks: Record<string, number | undefined>;
}

export interface SizeContext {
  runs: number;
  dataset: Dataset;
  sizeMb: number;
  adminUrl: string;
  urlOf: (database: string) => string;
  postmasterPid: number;
  plain: PlainCommands;
  workers: { plain: WorkerSetup; encrypted: WorkerSetup };
  log: (message: string) => void;
}

/**
 * Every measurement once per round, rounds repeated `runs` times: the rows are measured side by
 * side, so a slow minute of the machine touches all of them rather than one. A `sync` after each
 * step (timed, reported apart) starts the next one with nothing left to write.
 */
export async function measureSize(context: SizeContext): Promise<SizeResult> {
  const { plain, workers, postmasterPid, log } = context;
  const url = context.urlOf(context.dataset.database);
  const tables = Object.keys(context.dataset.rows);
  const measurements = new Map<string, Measurement>();
  const chainVerifyMs: number[] = [];
  let countWorkersPlanned = 0;
  const kind = context.dataset.kind;
  const step = async (row: Omit<Measurement, 'samples'>, run: () => Promise<Sample>) => {
    if (!measuredOn(kind, row.key)) return;
    const sample = await run();
    sample.flushMs = syncMs();
    addSample(measurements, row, sample);
    const extra = sample.sizeBytes === undefined ? '' : `, ${(sample.sizeBytes / 1024 / 1024).toFixed(1)} MB`;
    const rss =
      sample.peakRssBytes === undefined
        ? ''
        : `, worker peak ${(sample.peakRssBytes / 1024 / 1024).toFixed(0)} MB`;
    log(`  ${row.label}: ${(sample.wallMs / 1000).toFixed(2)} s${extra}${rss}`);
  };
  for (let round = 1; round <= context.runs; round++) {
    log(`round ${round}/${context.runs} at ${context.sizeMb} MB (${kind} rows)`);
    syncMs();
    await step(rows.floor, () => plain.floor(url));
    await step(rows.plain, () => plain.plainDump(url));
    await step(diagnosticRows.pipedDurable, () => plain.pipedDurable(url, 0));
    await step(diagnosticRows.pipedFlushing, () => plain.pipedDurable(url, FLUSH_MB));
    // The pipeline right before the job it is compared with: a slow minute touches both.
    await step(rows.piped, () => plain.pipedDump(url));
    let backupId = '';
    await step(rows.job, async () => {
      const result = await workers.plain.dump(postmasterPid);
      backupId = result.backupId;
      chainVerifyMs.push(result.chainVerifyMs);
      return result.sample;
    });
    await step(rows.jobEncrypted, async () => {
      const result = await workers.encrypted.dump(postmasterPid);
      chainVerifyMs.push(result.chainVerifyMs);
      return result.sample;
    });
    await step(rows.verifyRead, () => workers.plain.verify(postmasterPid, backupId, 'read'));
    await step(rows.readPlain, () => plain.readPlain());
    await step(rows.readPiped, () => plain.readPiped());
    await step(rows.verifyRestore, () => workers.plain.verify(postmasterPid, backupId, 'restore'));
    await step(rows.restorePlain, () => plain.restorePlain(context.adminUrl, context.urlOf));
    await step(diagnosticRows.countsParallel, async () => {
      const sample = await measureRowCounts(url, tables, postmasterPid, true);
      countWorkersPlanned = sample.workersPlanned;
      return sample;
    });
    await step(diagnosticRows.countsSerial, () => measureRowCounts(url, tables, postmasterPid, false));
    rmSync(plain.plainFile, { force: true });
    rmSync(plain.pipedFile, { force: true });
  }
  return {
    kind,
    sizeMb: context.sizeMb,
    dataset: context.dataset,
    measurements,
    chainVerifyMs,
    countWorkersPlanned,
    workerPeaks: {},
  };
}
