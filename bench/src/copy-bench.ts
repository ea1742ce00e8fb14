#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CopyObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { findBackup, type Manifest, writeManifest } from '@pgbackup/backup-core';
import { PostgresServer } from '../../test/harness/postgres-server.js';
import { trackDirectory } from '../../test/harness/reaper.js';
import { RedisServer } from '../../test/harness/redis-server.js';
import { S3Server } from '../../test/harness/s3-server.js';
import { createDataset } from './dataset.js';
import { cpuTimes } from './proc.js';
import { megabytes, ratio, seconds, summarize, timeWithSpread } from './stats.js';
import { type ChainRun, type CopyRun, WorkerSetup } from './worker-jobs.js';

/**
 * Offsite copy throughput (issue 14): on one generated database (dataset.ts, the rows of
 * `pnpm bench`), against a local s3rver (the test harness's, its own process), per run:
 *
 * - the dump job alone (a worker without destinations): enqueue to dump done;
 * - the chain with a destination: enqueue of the dump to the copy job's completion ("copied"),
 *   which runs dump -> verify (checksum) -> copy;
 * - a plain SDK multipart upload (lib-storage `Upload`) of the same backup file, same part size,
 *   same concurrency (queueSize 4), to the same server;
 * - a server-side copy (CopyObject, metadata replaced) of that uploaded object;
 * - the copy job alone on the same backup (its recorded copy removed first), with the worker's
 *   peak RSS while it ran (VmHWM reset before the job);
 * - the dump job alone and the plain upload of the previous backup started together: the floor
 *   of any design that overlaps the upload with the dump, on this machine (both compete for the
 *   same cores), measured as the later of the two finishing.
 *
 * The issue's goal: "copied" within 1.15x of max(dump alone, plain upload), and the worker under
 * 200 MB RSS while copying. Prints the figures and a markdown table; nothing is asserted.
 *
 *   pnpm --filter @pgbackup/bench run probe:copy -- [--size-mb 800] [--runs 1] [--encrypted]
 */

// dist/bench/src/copy-bench.js (or src/copy-bench.ts) -> the repository root.
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../../..' : '../..');
const workerEntry = path.join(root, 'apps/worker/dist/main.js');

const GOAL_RATIO = 1.15;
const GOAL_RSS_BYTES = 200 * 1024 * 1024;
const UPLOAD_QUEUE_SIZE = 4;

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  if (index === -1) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} expects a positive number`);
  return value;
}

function log(message: string): void {
  console.error(`[probe:copy ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function benchClient(s3: S3Server): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3Server.accessKeyId, secretAccessKey: S3Server.secretAccessKey },
    // As our destinations with a custom endpoint (s3rver would store aws-chunked framing otherwise).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * A server-side copy of the plain upload's object with new metadata (CopyObject, REPLACE): what
 * finalising an object uploaded under a staging key while the dump ran would add after it.
 */
async function serverSideCopy(s3: S3Server, file: string): Promise<number> {
  const client = benchClient(s3);
  try {
    const started = performance.now();
    await client.send(
      new CopyObjectCommand({
        Bucket: 'plain',
        Key: `${path.basename(file)}.copied`,
        CopySource: `plain/${encodeURIComponent(path.basename(file))}`,
        MetadataDirective: 'REPLACE',
        Metadata: { sha256: 'x'.repeat(64) },
      }),
    );
    return performance.now() - started;
  } finally {
    client.destroy();
  }
}

/** The s3rver process (its command line names its data directory): its CPU counts for the upload. */
function s3rverPid(s3: S3Server): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(s3.dir)) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

function selfCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const times = cpuTimes(pid);
  return times.selfMs + times.childrenMs;
}

/** The baseline: the SDK's own multipart upload, nothing of ours around it. */
async function plainUpload(s3: S3Server, file: string, sizeBytes: number, partSize: number): Promise<number> {
  const client = benchClient(s3);
  try {
    const started = performance.now();
    await new Upload({
      client,
      partSize,
      queueSize: UPLOAD_QUEUE_SIZE,
      params: {
        Bucket: 'plain',
        Key: path.basename(file),
        Body: createReadStream(file),
        ContentLength: sizeBytes,
      },
    }).done();
    return performance.now() - started;
  } finally {
    client.destroy();
  }
}

async function main(): Promise<void> {
  const sizeMb = flag('--size-mb', 800);
  const runs = Math.round(flag('--runs', 1));
  const encrypted = process.argv.includes('--encrypted');
  const loadBefore = os.loadavg();
  const postgres = await PostgresServer.start();
  const redis = await RedisServer.start();
  const s3 = await S3Server.start({ buckets: ['backups', 'plain'] });
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-bench-copy-'));
  trackDirectory(workDir);
  const setups: WorkerSetup[] = [];
  try {
    const adminUrl = postgres.url();
    log(`generating ${sizeMb} MB`);
    const dataset = await createDataset({
      kind: 'mixed',
      adminUrl,
      urlOf: (database) => postgres.url(database),
      database: 'bench_copy',
      sizeMb,
      seed: 0.42,
      parallel: os.availableParallelism(),
      log,
    });
    const secretFile = path.join(workDir, 's3-secret');
    writeFileSync(secretFile, S3Server.secretAccessKey, { mode: 0o600 });
    // --encrypted: both workers encrypt (BACKUP_ENCRYPTION_KEY_FILE), as an encrypted deployment.
    let keyFile: string | undefined;
    if (encrypted) {
      keyFile = path.join(workDir, 'operator.key');
      writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    }
    const common = {
      entry: workerEntry,
      workDir,
      databaseUrl: postgres.url(dataset.database),
      redisUrl: redis.url,
      ...(keyFile ? { encryptionKeyFile: keyFile } : {}),
    };
    const dumpOnly = await WorkerSetup.create({ ...common, label: 'dump-only' });
    setups.push(dumpOnly);
    const withCopy = await WorkerSetup.create({
      ...common,
      label: 'with-copy',
      env: {
        BACKUP_S3_BUCKET: 'backups',
        BACKUP_S3_ENDPOINT: s3.endpoint,
        BACKUP_S3_ACCESS_KEY_ID: S3Server.accessKeyId,
        BACKUP_S3_SECRET_ACCESS_KEY_FILE: secretFile,
      },
    });
    setups.push(withCopy);

    const dumpMs: number[] = [];
    const chains: ChainRun[] = [];
    const plainMs: number[] = [];
    const alone: CopyRun[] = [];
    const serverCopyMs: number[] = [];
    const dumpCpuMs: number[] = [];
    const uploadCpuMs: number[] = [];
    const s3Pid = s3rverPid(s3);
    const together: Array<{ dumpMs: number; uploadMs: number }> = [];
    for (let run = 1; run <= runs; run++) {
      const dump = await dumpOnly.dump(postgres.pid!);
      dumpMs.push(dump.sample.wallMs);
      dumpCpuMs.push(dump.sample.clientCpuMs + dump.sample.serverCpuMs);
      log(`run ${run}: dump job alone ${seconds(dump.sample.wallMs)} (${megabytes(dump.sample.sizeBytes)})`);

      const chain = await withCopy.dumpThenCopy();
      chains.push(chain);
      log(
        `run ${run}: enqueue -> copied ${seconds(chain.enqueueToCopiedMs)} (dump ${seconds(chain.dumpMs)}, verify ${seconds(chain.verifyMs)}, copy waited ${seconds(chain.copyQueueMs ?? 0)}, copy ran ${seconds(chain.copyMs ?? 0)}; peak RSS ${megabytes(chain.peakRssBytes)}, ${megabytes(chain.rssBeforeBytes)} before)`,
      );

      const backup = await findBackup(withCopy.backupDir, chain.backupId);
      const partSize = chain.partSize ?? 5 * 1024 * 1024;
      const cpuBefore = process.cpuUsage();
      const serverCpuBefore = selfCpuMs(s3Pid);
      const plain = await plainUpload(s3, backup.filePath, backup.manifest.sizeBytes, partSize);
      const cpuUsed = process.cpuUsage(cpuBefore);
      uploadCpuMs.push((cpuUsed.user + cpuUsed.system) / 1000 + selfCpuMs(s3Pid) - serverCpuBefore);
      plainMs.push(plain);
      log(
        `run ${run}: plain SDK upload ${seconds(plain)} (part size ${megabytes(partSize)}, queueSize ${UPLOAD_QUEUE_SIZE})`,
      );
      const copied = await serverSideCopy(s3, backup.filePath);
      serverCopyMs.push(copied);
      log(`run ${run}: server-side copy of that object ${seconds(copied)}`);

      // The copy job alone: forget the recorded copy so that the job uploads again.
      const { copies: _copies, ...uncopied } = backup.manifest;
      await writeManifest(withCopy.backupDir, uncopied as Manifest);
      const copy = await withCopy.copyAlone(chain.backupId, 's3');
      alone.push(copy);
      log(
        `run ${run}: copy job alone ${seconds(copy.wallMs)} (ran ${seconds(copy.processingMs ?? 0)}; peak RSS ${megabytes(copy.peakRssBytes)}, ${megabytes(copy.rssBeforeBytes)} before)`,
      );

      // A dump and an upload of the same size at once: what overlapping them could reach here.
      const [overlapDump, overlapUpload] = await Promise.all([
        dumpOnly.dump(postgres.pid!),
        plainUpload(s3, backup.filePath, backup.manifest.sizeBytes, partSize),
      ]);
      together.push({ dumpMs: overlapDump.sample.wallMs, uploadMs: overlapUpload });
      log(
        `run ${run}: dump job and plain upload together: dump ${seconds(overlapDump.sample.wallMs)}, upload ${seconds(overlapUpload)}`,
      );
    }

    const loadAfter = os.loadavg();
    const median = (values: number[]) => summarize(values)?.median;
    const dumpSummary = summarize(dumpMs);
    const plainSummary = summarize(plainMs);
    const reference = Math.max(dumpSummary!.median, plainSummary!.median);
    const copiedSummary = summarize(chains.map((c) => c.enqueueToCopiedMs));
    const copyAloneSummary = summarize(alone.map((c) => c.wallMs));
    const peakChain = Math.max(...chains.map((c) => c.peakRssBytes ?? 0));
    const peakCopy = Math.max(...alone.map((c) => c.peakRssBytes ?? 0));
    const sizeBytes = chains[0]!.sizeBytes;
    const achieved = copiedSummary!.median / reference;

    console.log(
      `Copy of a ${(dataset.sizeBytes / 1024 / 1024).toFixed(0)} MB database (backup ${megabytes(sizeBytes)} zstd${encrypted ? ', encrypted' : ''}, part size ${megabytes(chains[0]!.partSize)}, ${chains[0]!.parts ?? '?'} parts) to a local s3rver, ${runs} run(s), ${os.availableParallelism()} cores, load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(1)).join(' ')} after; median (min-max):\n`,
    );
    console.log('| measured | wall | vs max(dump alone, plain upload) |\n|---|---|---|');
    const row = (label: string, summary: ReturnType<typeof summarize>) =>
      console.log(`| ${label} | ${timeWithSpread(summary)} | ${ratio(summary?.median, reference)} |`);
    row('dump job alone (enqueue to dump done)', dumpSummary);
    row(
      `plain SDK multipart upload of the backup file (lib-storage, queueSize ${UPLOAD_QUEUE_SIZE})`,
      plainSummary,
    );
    row('**chain: enqueue of the dump to "copied"** (dump, verify checksum, copy)', copiedSummary);
    row('  of which: dump job', summarize(chains.map((c) => c.dumpMs)));
    row('  of which: verify (checksum)', summarize(chains.map((c) => c.verifyMs)));
    row('  of which: copy job waiting in the queue', summarize(chains.map((c) => c.copyQueueMs ?? 0)));
    row('  of which: copy job running', summarize(chains.map((c) => c.copyMs ?? 0)));
    row('copy job alone (enqueue to copied)', copyAloneSummary);
    row(
      'dump job and plain upload started together (both done: the floor of overlapping them)',
      summarize(together.map((t) => Math.max(t.dumpMs, t.uploadMs))),
    );
    row('  of which: the dump job', summarize(together.map((t) => t.dumpMs)));
    row('  of which: the plain upload', summarize(together.map((t) => t.uploadMs)));
    row('server-side copy of the uploaded object (CopyObject, metadata replaced)', summarize(serverCopyMs));
    console.log('');
    console.log(
      `Goal (issue 14): "copied" <= ${GOAL_RATIO}x max(dump alone, plain upload) = ${seconds(reference * GOAL_RATIO)}: ${achieved <= GOAL_RATIO ? 'met' : `NOT met (${achieved.toFixed(2)}x, ${seconds(copiedSummary!.median - reference * GOAL_RATIO)} over)`}.`,
    );
    const cores = os.availableParallelism();
    const dumpCpu = summarize(dumpCpuMs)!.median;
    const uploadCpu = summarize(uploadCpuMs)!.median;
    const cpuFloor = (dumpCpu + uploadCpu) / cores;
    console.log(
      `CPU time (medians): dump job ${seconds(dumpCpu)} (worker with pg_dump and zstd, PostgreSQL), plain upload ${seconds(uploadCpu)} (the uploading process and s3rver${s3Pid === undefined ? ': s3rver not found, not counted' : ''}); both at once need at least ${seconds(cpuFloor)} of wall time on ${cores} cores, ${ratio(cpuFloor, reference)} of max(dump alone, plain upload) (CPU time grows a little with the load; wall time much more).`,
    );
    console.log(
      `Copy job alone vs plain upload: ${ratio(copyAloneSummary?.median, median(plainMs))} (the upload itself, with the bucket check, HeadObject confirmation and manifest object around it).`,
    );
    console.log(
      `Worker peak RSS (VmHWM): ${megabytes(peakCopy)} while the copy job ran alone (${megabytes(Math.max(...alone.map((c) => c.rssBeforeBytes ?? 0)))} held before it), ${megabytes(peakChain)} over the whole chain (${megabytes(Math.max(...chains.map((c) => c.rssBeforeBytes ?? 0)))} before); goal < ${megabytes(GOAL_RSS_BYTES)}: ${Math.max(peakCopy, peakChain) < GOAL_RSS_BYTES ? 'met' : 'NOT met'}.`,
    );
  } finally {
    for (const setup of setups) await setup.close().catch(() => undefined);
    await s3.destroy().catch(() => undefined);
    await redis.destroy().catch(() => undefined);
    await postgres.destroy().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
