import { type DumpPhaseName, dumpPhases } from '@pgbackup/backup-core';
import type { Dataset } from './dataset.js';
import type { Load, Machine } from './machine.js';
import { diagnosticRows, FLUSH_MB, rows, type SizeResult } from './measure-size.js';
import type { BenchOptions } from './options.js';
import type { ProfileSummary } from './profile.js';
import type { Measurement } from './sample.js';
import { type SmallResult, smallRows } from './small-db.js';
import { megabytes, ratio, seconds, summarize, timeWithSpread } from './stats.js';
import type { TargetCheck } from './targets.js';

export interface ProfileRun {
  label: string;
  wallMs: number;
  summary: ProfileSummary | undefined;
}

export interface BenchReport {
  options: BenchOptions;
  command: string;
  startedAt: Date;
  finishedAt: Date;
  machine: Machine;
  loadBefore: Load;
  loadAfter: Load;
  /** CPU used by other processes during the run, in cores (of the machine's). */
  otherCores: number;
  sizes: SizeResult[];
  small: SmallResult | undefined;
  catalog: Measurement[];
  profiles: ProfileRun[];
  targets: TargetCheck[];
}

const plainEquivalent: Record<string, string> = {
  'verify-read': 'read-plain',
  'verify-restore': 'restore-plain',
};

function values(
  measurement: Measurement | undefined,
  pick: (s: Measurement['samples'][number]) => number | undefined,
) {
  return (measurement?.samples ?? []).flatMap((sample) => {
    const value = pick(sample);
    return value === undefined ? [] : [value];
  });
}

function medianOf(
  measurement: Measurement | undefined,
  pick: (s: Measurement['samples'][number]) => number | undefined,
) {
  return summarize(values(measurement, pick))?.median;
}

const wall = (m: Measurement | undefined) => medianOf(m, (s) => s.wallMs);

/** Inline code in a table cell: GitHub's tables split on every `|`, even inside backticks. */
function code(text: string): string {
  return `\`${text.replaceAll('|', '\\|')}\``;
}

function resultsTable(result: SizeResult): string {
  const m = result.measurements;
  const plain = wall(m.get('plain'));
  const piped = wall(m.get('piped'));
  const lines = [
    '| measurement | command | wall: median (min-max) | vs (1) | vs (2) | vs its plain equivalent | archive | worker peak RSS during the job | CPU client / server |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of Object.values(rows)) {
    const measurement = m.get(row.key);
    if (!measurement) continue;
    const median = wall(measurement);
    const equivalentKey = plainEquivalent[row.key];
    const equivalent = equivalentKey ? ratio(median, wall(m.get(equivalentKey))) : '';
    const size = medianOf(measurement, (s) => s.sizeBytes);
    const rss = values(measurement, (s) => s.peakRssBytes);
    const client = medianOf(measurement, (s) => s.clientCpuMs);
    const server = medianOf(measurement, (s) => s.serverCpuMs);
    lines.push(
      `| ${row.label} | ${code(row.command)} | ${timeWithSpread(summarize(values(measurement, (s) => s.wallMs)))} | ${ratio(median, plain)} | ${ratio(median, piped)} | ${equivalent} | ${size === undefined ? '' : megabytes(size)} | ${rss.length > 0 ? megabytes(Math.max(...rss)) : ''} | ${client === undefined ? '' : `${seconds(client)} / ${seconds(server ?? 0)}`} |`,
    );
  }
  return lines.join('\n');
}

const phaseLabels: Record<DumpPhaseName, string> = {
  lookup: 'catalog checked for a finished backup of the same job',
  snapshot: 'snapshot connection: connect, repeatable-read transaction, export, size estimate',
  probes: 'pg_dump found and its version probed (cached after the first job)',
  directories: 'backup directories created or checked',
  stream: 'streaming: pg_dump | zstd | Node (SHA-256, write) until every stage exited',
  counts: 'exact row counts in the snapshot (beside the stream, not added)',
  countsWait: 'waiting for the row counts after the stream',
  fsync: 'final fsync of the backup file',
  catalog: 'previous verified backup looked up (the size check)',
  publish: 'rename and directory fsync',
  manifest: 'manifest written (file fsync, rename, directory fsync)',
  close: 'snapshot transaction ended, connection closed',
};

/**
 * The dump job taken apart: runDump's phases (from its run log), the worker around it and the
 * queue, against the pipeline's median. Medians per phase, so the parts need not add up exactly.
 */
function fixedCostTable(job: Measurement | undefined, pipeline: Measurement | undefined): string {
  if (!job) return '';
  const median = (pick: (s: Measurement['samples'][number]) => number | undefined) => medianOf(job, pick);
  const total = wall(job) ?? 0;
  const piped = wall(pipeline);
  const pipedFlush = medianOf(pipeline, (s) => s.flushMs);
  const queue = median((s) => s.queueMs);
  const processing = median((s) => s.processingMs);
  const inside = median((s) => s.jobMs);
  const lines = ['| part of the dump job | median | share of the job |', '|---|---|---|'];
  const row = (label: string, ms: number | undefined) => {
    if (ms === undefined) return;
    lines.push(
      `| ${label.replaceAll('|', '\\|')} | ${seconds(ms)} | ${total > 0 ? `${((ms / total) * 100).toFixed(1)}%` : ''} |`,
    );
  };
  row('waiting in the queue (enqueue to a worker taking it)', queue);
  if (processing !== undefined && inside !== undefined) {
    row(
      'the worker around runDump: target lock, run log, sweep, job log, progress, enqueueing the verify job',
      processing - inside,
    );
  }
  for (const phase of dumpPhases)
    row(
      `runDump: ${phaseLabels[phase]}`,
      median((s) => s.timings?.[phase]),
    );
  if (queue !== undefined && processing !== undefined) {
    row('completion event reaching the bench', Math.max(0, total - queue - processing));
  }
  row('**the dump job, enqueue to completion**', total);
  if (piped !== undefined) {
    row('the pipeline it is compared with, same rounds', piped);
    row('**the job beyond the pipeline**', total - piped);
    const stream = median((s) => s.timings?.stream);
    if (stream !== undefined)
      row('of which in the streaming phase (stream minus the pipeline)', stream - piped);
    if (pipedFlush !== undefined) row('the `sync` after the pipeline (what it left unwritten)', pipedFlush);
  }
  return lines.join('\n');
}

function datasetLine(dataset: Dataset): string {
  const rowsText = Object.entries(dataset.rows)
    .map(([table, count]) => `${table} ${count.toLocaleString('en')}`)
    .join(', ');
  return `database ${megabytes(dataset.sizeBytes)} (\`pg_database_size\`), rows: ${rowsText}; generated in ${seconds(dataset.generationMs)}`;
}

function cpuTable(result: SizeResult): string {
  const lines = [
    '| measurement | wall | CPU of pg_dump, compressor, worker | CPU of PostgreSQL | cores busy (CPU / wall) |',
    '|---|---|---|---|---|',
  ];
  for (const row of [
    rows.floor,
    rows.plain,
    rows.piped,
    rows.job,
    rows.jobEncrypted,
    rows.verifyRead,
    rows.readPlain,
    rows.readPiped,
    diagnosticRows.pipedDurable,
    diagnosticRows.pipedFlushing,
    diagnosticRows.countsParallel,
    diagnosticRows.countsSerial,
  ]) {
    const measurement = result.measurements.get(row.key);
    if (!measurement) continue;
    const w = wall(measurement) ?? 0;
    const client = medianOf(measurement, (s) => s.clientCpuMs) ?? 0;
    const server = medianOf(measurement, (s) => s.serverCpuMs) ?? 0;
    lines.push(
      `| ${row.label} | ${seconds(w)} | ${seconds(client)} | ${seconds(server)} | ${w > 0 ? ((client + server) / w).toFixed(2) : 'n/a'} |`,
    );
  }
  return lines.join('\n');
}

function passesText(result: SizeResult): string {
  const m = result.measurements;
  const median = (
    key: string,
    pick: (s: Measurement['samples'][number]) => number | undefined = (s) => s.wallMs,
  ) => medianOf(m.get(key), pick) ?? 0;
  const archive = median('floor', (s) => s.sizeBytes);
  const stored = median('job', (s) => s.sizeBytes);
  const piped = median('piped');
  const durableKey = diagnosticRows.pipedDurable.key;
  const flushingKey = diagnosticRows.pipedFlushing.key;
  const job = median('job');
  const cpu = (key: string) => median(key, (s) => s.clientCpuMs);
  const server = (key: string) => median(key, (s) => s.serverCpuMs);
  const counts = m.get(diagnosticRows.countsParallel.key);
  const countsSerial = m.get(diagnosticRows.countsSerial.key);
  const step = (label: string, key: string, previous: string | undefined) => {
    const value = median(key);
    const before = previous === undefined ? undefined : median(previous);
    const added = before === undefined ? '' : `${value >= before ? '+' : ''}${seconds(value - before)}`;
    const addedCpu =
      previous === undefined
        ? ''
        : `${cpu(key) >= cpu(previous) ? '+' : ''}${seconds(cpu(key) - cpu(previous))}`;
    return `| ${label} | ${seconds(value)} | ${added} | ${ratio(value, piped)} | ${seconds(cpu(key))} | ${addedCpu} | ${seconds(server(key))} |`;
  };
  return [
    `Passes over the bytes at ${result.sizeMb} MB (pg_dump's uncompressed archive ${megabytes(archive)}, stored backup ${megabytes(stored)}): in (2) the server reads the tables and sends COPY text, pg_dump writes the archive into a pipe, zstd compresses it (one pass) and the shell writes the file, which stays in the page cache. The worker runs the same two processes, pg_dump piped straight into zstd (the archive never enters Node), and zstd writes the backup file itself, as the shell's does; Node reads the file back as it grows (from the page cache) and hashes it (SHA-256, about ${seconds((stored / 1.75e9) * 1000)} at the 1.75 GB/s measured for Node): one more pass, over the compressed bytes only, beside the stream rather than in it (\`FileFollower\`). With encryption the bytes do pass through Node: zstd's output is read, encrypted (AES-256-GCM, about 1.9 GB/s), hashed and written (\`FlushingFile\`). Either way the file is written out in the background every 8 MiB as it grows (fdatasync), so the final fsync has little left to wait for. Meanwhile its row counts (one query, in the snapshot) scan every table once more on the server. At the end it fsyncs the file and its directory and writes the manifest.`,
    '',
    "The dump job, taken apart step by step (medians of the same rounds; the middle rows are diagnostics run like (2), with zstd's output piped into `bench/src/durable-writer.ts`, which does what the worker's encrypted dump does with it, less the encryption, and nothing else):",
    '',
    '| step | wall | added | vs (2) | client CPU | added | server CPU |',
    '|---|---|---|---|---|---|---|',
    step('(2) `pg_dump -Fc -Z0 \\| zstd -1 -T0 > file`, not flushed', 'piped', undefined),
    step(
      'diagnostic: the same, its output through Node: SHA-256, write stream, fsync at the end',
      durableKey,
      'piped',
    ),
    step(
      '(3) the dump job: zstd writes the file, Node hashes it beside; queue, snapshot and row counts, run log, manifest',
      'job',
      'piped',
    ),
    step('(4) the dump job, encrypted', 'job-enc', 'job'),
    step(
      `diagnostic: the Node stage writing the file out every ${FLUSH_MB} MB as it goes`,
      flushingKey,
      durableKey,
    ),
    '',
    'Wall times move with whatever else the machine runs; CPU times much less: they are the steadier measure of what each step costs.',
    '',
    `CPU: carrying zstd's output through Node (the diagnostic) added ${seconds(cpu(diagnosticRows.pipedDurable.key) - cpu('piped'))} of client CPU to (2); the dump job, whose zstd writes its file itself, used ${seconds(cpu('job') - cpu('piped'))} more than (2) (reading the file back and hashing it, and the worker process itself: BullMQ, progress updates, the snapshot connection, and on its first job the pg_dump version probes) and ${seconds(server('job') - server('piped'))} more server CPU than (2); encryption added ${seconds(cpu('job-enc') - cpu('job'))} of client CPU.`,
    `Durability: the \`sync\` right after the plain commands took ${m.has('plain') ? `${seconds(median('plain', (s) => s.flushMs))} for (1) and ` : ''}${seconds(median('piped', (s) => s.flushMs))} for (2): the time the kernel needed to write out what they left in the page cache. The worker pays for that inside its time (its backup is on disk when the job completes); a cron line does not, and its backup is not yet on disk when it reports success. Against (2) plus its flush (${seconds(piped + median('piped', (s) => s.flushMs))}), the dump job is ${ratio(job, piped + median('piped', (s) => s.flushMs))}.`,
    `Row counts, run alone in a snapshot: ${seconds(wall(counts) ?? 0)} wall and ${seconds(medianOf(counts, (s) => s.serverCpuMs) ?? 0)} of server CPU with PostgreSQL's default plan (${result.countWorkersPlanned} parallel worker(s) planned per count), ${seconds(wall(countsSerial) ?? 0)} and ${seconds(medianOf(countsSerial, (s) => s.serverCpuMs) ?? 0)} with parallel query off. During a dump they share the cores with pg_dump's backend, pg_dump and zstd.`,
  ].join('\n');
}

function profileSection(profiles: ProfileRun[]): string {
  const parts: string[] = [];
  for (const run of profiles) {
    if (!run.summary) {
      parts.push(`${run.label}: no profile was written.`, '');
      continue;
    }
    const { summary } = run;
    parts.push(
      `**${run.label}**: ${seconds(summary.windowMs)} from enqueue to completion under the profiler; the worker's main thread was on the CPU for ${seconds(summary.busyMs)} of it (${((summary.busyMs / summary.windowMs) * 100).toFixed(0)}%).`,
      '',
      '| function (self time, samples inside the job only) | called from (heaviest path) | ms | share of the job |',
      '|---|---|---|---|',
      ...summary.top.map(
        (entry) =>
          `| ${code(entry.name)} | ${entry.calledFrom ? code(entry.calledFrom) : ''} | ${Math.round(entry.selfMs)} | ${(entry.share * 100).toFixed(1)}% |`,
      ),
      '',
    );
  }
  return parts.join('\n');
}

/** Where a worker job's wall time went: waiting in the queue, running, and being reported back. */
function phasesText(result: SizeResult): string {
  const lines: string[] = [];
  for (const row of [rows.job, rows.jobEncrypted, rows.verifyRead, rows.verifyRestore]) {
    const measurement = result.measurements.get(row.key);
    const total = wall(measurement);
    const queue = medianOf(measurement, (s) => s.queueMs);
    const processing = medianOf(measurement, (s) => s.processingMs);
    const job = medianOf(measurement, (s) => s.jobMs);
    if (total === undefined || queue === undefined || processing === undefined) continue;
    const inside =
      job === undefined
        ? ''
        : ` (of which ${seconds(job)} inside ${row.key.startsWith('job') ? 'runDump, as the manifest records' : 'verifyBackup'})`;
    lines.push(
      `- ${row.label}: ${seconds(total)} = ${seconds(queue)} waiting in the queue + ${seconds(processing)} running${inside} + ${seconds(Math.max(0, total - queue - processing))} until the completion event reached the bench.`,
    );
  }
  return lines.join('\n');
}

function catalogTable(catalog: Measurement[]): string {
  const lines = ['| measurement | call | time: median (min-max) |', '|---|---|---|'];
  for (const measurement of catalog) {
    lines.push(
      `| ${measurement.label} | ${code(measurement.command)} | ${timeWithSpread(summarize(measurement.samples.map((s) => s.wallMs)))} |`,
    );
  }
  return lines.join('\n');
}

function targetsTable(targets: TargetCheck[]): string {
  const lines = ['| target | measured | |', '|---|---|---|'];
  for (const check of targets) {
    lines.push(
      `| ${check.target.replaceAll('|', '\\|')} | ${check.measured} | ${check.met === undefined ? 'not measured' : check.met ? 'met' : '**missed**'} |`,
    );
  }
  return lines.join('\n');
}

function loadText(report: BenchReport): string {
  const before = report.loadBefore;
  const text = `Load average (1, 5, 15 min) at the start: ${before.loadavg.join(', ')}; at the end (the bench's own work included): ${report.loadAfter.loadavg.join(', ')}. Other processes used ${report.otherCores.toFixed(2)} cores on average during the run (busy time of /proc/stat minus the bench's own processes; kernel writeback threads count as other).`;
  // The load average counts the bench's own processes too: what other processes used is the measure.
  if (report.otherCores < 0.2) return `${text} The machine was otherwise quiet.`;
  return `${text} **Other work was running on the machine** (busiest at the start: ${before.busiest.join('; ') || 'n/a'}): absolute times are inflated and noisier; ratios between rows of the same rounds are less affected.`;
}

function smallSection(small: SmallResult, runs: number): string {
  const m = small.measurements;
  const piped = m.get(smallRows.piped.key);
  const job = m.get(smallRows.job.key);
  const lines = [
    '| measurement | command | wall: median (min-max) | vs the pipeline | `sync` after it | CPU client / server |',
    '|---|---|---|---|---|---|',
  ];
  for (const measurement of [piped, job]) {
    if (!measurement) continue;
    const client = medianOf(measurement, (s) => s.clientCpuMs);
    const server = medianOf(measurement, (s) => s.serverCpuMs);
    lines.push(
      `| ${measurement.label} | ${code(measurement.command)} | ${timeWithSpread(summarize(values(measurement, (s) => s.wallMs)))} | ${ratio(wall(measurement), wall(piped))} | ${seconds(medianOf(measurement, (s) => s.flushMs) ?? 0)} | ${client === undefined ? '' : `${seconds(client)} / ${seconds(server ?? 0)}`} |`,
    );
  }
  return [
    '## A small database: the fixed cost per job',
    '',
    `The load test's database (300 customers, 1,000 orders; a stored backup of ${megabytes(small.sizeBytes)}), dumped ${runs} round(s) of ${small.pairs} pairs, each pair the pipeline then the dump job. The worker's first job (version probes, first use of its connections) is kept apart: ${seconds(small.firstJob.wallMs)}.`,
    '',
    lines.join('\n'),
    '',
    fixedCostTable(job, piped),
    '',
  ].join('\n');
}

/** The answer to "what does the queue cost me", in one paragraph. */
function headline(result: SizeResult): string {
  const m = result.measurements;
  const plain = wall(m.get('plain'));
  const piped = wall(m.get('piped'));
  const job = wall(m.get('job'));
  const jobEnc = wall(m.get('job-enc'));
  if (!plain || !piped || !job || !jobEnc) return '';
  const faster = (value: number) => `${(plain / value).toFixed(1)}x faster`;
  return `In short, at ${result.sizeMb} MB: \`pg_dump -Fc -f file\` took ${seconds(plain)}. A dump job through the worker (queue, zstd, SHA-256, fsync, manifest, row counts) took ${seconds(job)}, ${faster(job)}, and ${seconds(jobEnc)} encrypted (${faster(jobEnc)}); the fastest shell pipeline, \`pg_dump -Fc -Z0 | zstd -1 -T0\`, took ${seconds(piped)} without flushing its file to disk.`;
}

export function renderReport(report: BenchReport): string {
  // The headline and the profiles are the mixed dataset's at full size; every dataset at its full
  // size gets its own "where the time goes".
  const full = report.sizes.filter((result) => result.kind === 'mixed').at(-1) ?? report.sizes.at(-1);
  const fullSizes = report.sizes.filter(
    (result) => !report.sizes.some((other) => other.kind === result.kind && other.sizeMb > result.sizeMb),
  );
  const { machine } = report;
  const sections = [
    '# Benchmarks',
    '',
    `Generated by \`${report.command}\` on ${report.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC (${Math.round((report.finishedAt.getTime() - report.startedAt.getTime()) / 60_000)} minutes in all). Re-run it rather than editing this file; how it works and how to run it are at the end.`,
    '',
    full ? headline(full) : '',
    '',
    '## Targets',
    '',
    `Judged on the medians of ${report.options.runs} run(s) at ${full?.sizeMb ?? report.options.sizeMb} MB (the small database: ${report.small ? report.small.pairs * report.options.runs : 0} pairs, ${report.small?.pairs ?? 0} per round). These are a benchmark's figures, not a timed test.`,
    '',
    targetsTable(report.targets),
    '',
    '## Machine',
    '',
    `- CPU: ${machine.cpu}, ${machine.cores} cores; memory ${machine.memoryGb} GB; ${machine.kernel}`,
    `- PostgreSQL ${machine.postgres} (private server of the test harness: fsync=off, full_page_writes=off, shared_buffers=128MB); ${machine.pgDump}; ${machine.zstd}; Node ${machine.node} (OpenSSL ${machine.openssl})`,
    `- ${loadText(report)}`,
    '',
  ];
  for (const result of [...report.sizes].reverse()) {
    sections.push(
      `## Dumps and verifications at ${result.sizeMb} MB, ${result.kind} rows`,
      '',
      `Dataset: ${datasetLine(result.dataset)}. ${report.options.runs} run(s) of each row, side by side.${result.kind === 'narrow' ? ' Plain `pg_dump -Fc` and the restores are measured on the mixed dataset only.' : ''}`,
      '',
      resultsTable(result),
      '',
    );
    const peaks = Object.entries(result.workerPeaks)
      .map(([label, bytes]) => `${label} ${megabytes(bytes)}`)
      .join(', ');
    sections.push(
      `Peak RSS (VmHWM) of the worker processes over their whole life, start-up and every job above included: ${peaks}. The per-job column is VmHWM after resetting it (\`echo 5 > /proc/<pid>/clear_refs\`) just before the job.`,
      '',
    );
    const chain = summarize(result.chainVerifyMs);
    if (chain) {
      sections.push(
        `Each dump job chains a \`checksum\` verification (BACKUP_VERIFY=checksum: re-read, SHA-256, decrypt, \`zstd -t\`) and a prune; they ran after the timed part: ${timeWithSpread(chain)} per verification.`,
        '',
      );
    }
  }
  if (report.small) sections.push(smallSection(report.small, report.options.runs));
  for (const result of fullSizes) {
    sections.push(
      `## Where the time goes at ${result.sizeMb} MB, ${result.kind} rows`,
      '',
      `CPU time per process group (medians; from /proc: the worker's own time plus its reaped children, pg_dump and zstd; the server is the postmaster's tree). On 2 cores, "cores busy" near 2 means the processes compete for CPU, and any extra pass over the bytes lengthens the wall time.`,
      '',
      cpuTable(result),
      '',
      passesText(result),
      '',
      "The dump job's time beyond the pipeline, part by part (medians over the rounds; runDump's phases come from the `timings (ms):` line it writes to the job's run log):",
      '',
      fixedCostTable(result.measurements.get(rows.job.key), result.measurements.get(rows.piped.key)),
      '',
      "Where the worker rows' wall time went (medians, from the timestamps BullMQ keeps):",
      '',
      phasesText(result),
      '',
    );
  }
  if (report.profiles.length > 0 && full) {
    sections.push(
      `### The worker under \`node --cpu-prof\` (one extra dump job each at ${full.sizeMb} MB, not part of the timings above)`,
      '',
      profileSection(report.profiles),
    );
  }
  sections.push(
    '## Prune planning and catalog listing',
    '',
    'Synthetic manifests of hourly backups (one in ten failed its verification), default retention policy (daily 7, weekly 4, monthly 12, min 3 verified). `listBackups` reads, parses and validates every manifest file (written by `writeManifest` into a temporary directory).',
    '',
    catalogTable(report.catalog),
    '',
    '## How it is measured',
    '',
    '- A private PostgreSQL and Redis are started by the test harness (`PostgresServer.start()`, `RedisServer.start()`); the harness watchdog removes them if the run dies.',
    "- The datasets are generated in SQL, server-side (`generate_series`), after `setseed()` (serial plans, so the same seed and size give the same rows). *mixed*: four tables (customers, orders, events, comments) of text, uuid, numeric and timestamps, 1.2 M rows each at 800 MB, and one of 4 KiB bytea values (half pseudo-random, half text), 16,000 rows at 800 MB. *narrow* (issue 18): four tables of 1.2 M short rows each at 800 MB: bigint id, integer, timestamptz, numeric, a one-word status, a 65-character text and a uuid. Row counts scale with `--size-mb` (or `BENCH_SIZE_MB`). Each is frozen and analysed before the first measurement, so no run pays for hint bits. *small*: the load test's database (300 customers, 1,000 orders, a 6.4 kB backup), for the fixed cost of a job.",
    "- Each round runs every row once, the pipeline (2) right before the dump job (3), so rounds interleave pipeline and job and a slow minute of the machine touches both; rounds repeat `--runs` times. The small database runs pairs (pipeline, then job) five times per round. The narrow dataset skips plain `pg_dump -Fc` and the restores (they measure zlib and pg_restore, not the job's cost beyond the pipeline). Times are wall-clock: for the plain commands from spawn to exit, for the worker rows from `enqueueDump`/`enqueueVerify` to the job's completion event (QueueEvents), so queueing is included. `sync` runs (timed apart) after every step.",
    "- The dump job's parts come from runDump itself: it writes one `timings (ms):` line per dump to the job's run log (`packages/backup-core/src/dump/dump-timings.ts`), which the bench reads back; the worker's share is BullMQ's processing time minus runDump's duration.",
    '- The worker is the built `apps/worker/dist/main.js` in its own process, one per configuration and size, started before its first job and kept running between jobs as in production (so the first round includes its first-job costs, such as probing the pg_dump versions). Its environment: DATABASE_URL, REDIS_URL, BACKUP_DIR, BACKUP_LOG_DIR, BACKUP_QUEUE_PREFIX, BACKUP_HEALTH_PORT=0, BACKUP_VERIFY=checksum, BACKUP_SCHEDULE on 1 January with BACKUP_MAX_AGE=7d, BACKUP_TARGET_NAME=bench, and for row (4) BACKUP_ENCRYPTION_KEY_FILE holding `openssl rand -hex 32`. Everything else is default: zstd, SHA-256, fsync, manifest, concurrency 2. Peak RSS is VmHWM from /proc/<pid>/status, read after each job and its chained verification and prune.',
    '- The plain commands use the same pg_dump and pg_restore binaries the worker picks (`findPgTool`), over the same TCP connection, with the file in the same file system.',
    `- Diagnostic rows (not in the results table) take the dump job apart: (2) with zstd's output piped into \`bench/src/durable-writer.ts\` (SHA-256 tap, write stream and fsync, as the worker's dump does; and a variant that writes the file out every ${FLUSH_MB} MB), and the snapshot's row counts run alone, with and without parallel query.`,
    "- CPU times come from /proc/<pid>/stat: for the plain commands the children time of the bench process, for the worker rows the worker's own time plus its children, for the server the postmaster's process tree.",
    '',
    '## Running it',
    '',
    '```sh',
    'pnpm bench                                   # mixed 200 + 800 MB, narrow 800 MB, small; 3 runs',
    'pnpm bench -- --size-mb 40 --runs 1          # a quick check',
    'BENCH_SIZE_MB=100 BENCH_DATASETS=small,narrow pnpm bench -- --out /tmp/b.md   # the fixed cost only',
    'node bench/dist/main.js --size-mb 40 --runs 1  # the same, after `pnpm build`',
    '```',
    '',
    'Flags: `--size-mb N` (default 800, or `BENCH_SIZE_MB`), `--datasets mixed,narrow,small` (default all, or `BENCH_DATASETS`), `--runs N` (default 3), `--out FILE` (default docs/benchmarks.md), `--no-quarter` (skip the quarter size, and with it the memory-growth check), `--no-profile` (skip the `--cpu-prof` runs), `--seed X`. It needs about 4x the dataset size free in the temporary directory.',
    '',
    "The bench imports the test harness (`test/harness`), which is TypeScript source that Node 20 cannot load. Rather than a run-time loader, the bench build compiles the harness modules it uses together with its own sources: `bench/src` imports them by relative path (`../../test/harness/postgres-server.js`, not the package's `index.ts`, whose fixtures need vitest), and `bench/tsconfig.build.json` sets `rootDir: \"..\"`, so `tsc` emits `bench/dist/bench/src/*.js` and `bench/dist/test/harness/*.js`; the build then writes a one-line `bench/dist/main.js` that imports the entry (`bench/write-entry.mjs`). `bench/turbo.json` adds `test/harness/**/*.ts` to the build's inputs, so a change to the harness rebuilds the bench. The compiled harness finds `pg` and `ioredis` in `bench/node_modules`, where the bench's own dependencies put them. From a clean clone, `pnpm bench` installs, builds everything (bench included) and runs.",
    '',
  );
  return sections.join('\n');
}
