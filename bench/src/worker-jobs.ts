import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type BackupConfig, loadConfig, parseDumpTimings, type VerifyLevel } from '@pgbackup/backup-core';
import {
  createBackupQueue,
  createRedisConnection,
  enqueueCopy,
  enqueueDump,
  enqueueVerify,
  type JobResult,
  parseJobResult,
  QUEUE_NAME,
} from '@pgbackup/queue';
import { Job, type Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { rssBytes, treeCpuMs } from './proc.js';
import { monotonicUs } from './profile.js';
import type { Sample } from './sample.js';
import { WorkerProcess } from './worker-process.js';

export const TARGET = 'bench';
const JOB_TIMEOUT_MS = 2 * 3_600_000;

/**
 * One worker configuration (its own backup directory and queue prefix) and the bench's side of
 * the queue: the Queue to enqueue on and the QueueEvents that say when a job finished.
 */
export interface DumpRun {
  sample: Sample;
  backupId: string;
  chainVerifyMs: number;
  /** From enqueue to completion, in microseconds of the monotonic clock (the profile's). */
  window: [number, number];
}

/** dumpThenCopy: from the dump's enqueue to the confirmed copy, and where the time went. */
export interface ChainRun {
  backupId: string;
  sizeBytes: number;
  /** Enqueue to the dump job's completion. */
  dumpMs: number;
  /** The verification's own duration (the chain runs it between dump and copy). */
  verifyMs: number;
  /** The copy job's wait in the queue, and its processing time (BullMQ's timestamps). */
  copyQueueMs: number | undefined;
  copyMs: number | undefined;
  /** Enqueue of the dump to the copy job's completion ("copied"). */
  enqueueToCopiedMs: number;
  partSize: number | undefined;
  parts: number | undefined;
  peakRssBytes: number | undefined;
  /** The worker's RSS when the chain started (what it held from earlier jobs). */
  rssBeforeBytes: number | undefined;
}

export interface CopyRun {
  wallMs: number;
  queueMs?: number;
  processingMs?: number;
  partSize: number | undefined;
  parts: number | undefined;
  peakRssBytes: number | undefined;
  /** The worker's RSS when the copy job was enqueued. */
  rssBeforeBytes: number | undefined;
}

export class WorkerSetup {
  private worker: WorkerProcess | undefined;
  private lifetimePeak: number | undefined;

  private constructor(
    readonly label: string,
    readonly env: Record<string, string>,
    readonly config: BackupConfig,
    readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly connections: Redis[],
    private readonly entry: string,
    private readonly logFile: string,
  ) {}

  static async create(options: {
    label: string;
    entry: string;
    workDir: string;
    databaseUrl: string;
    redisUrl: string;
    encryptionKeyFile?: string;
    /** More documented variables (the copy bench's destination). */
    env?: Record<string, string>;
  }): Promise<WorkerSetup> {
    const dir = path.join(options.workDir, options.label);
    mkdirSync(dir, { recursive: true });
    // The documented variables only (packages/backup-core/src/config/README.md), nothing
    // inherited that could change the configuration: defaults for everything else.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? dir,
      DATABASE_URL: options.databaseUrl,
      BACKUP_TARGET_NAME: TARGET,
      REDIS_URL: options.redisUrl,
      BACKUP_DIR: path.join(dir, 'backups'),
      BACKUP_LOG_DIR: path.join(dir, 'logs'),
      BACKUP_QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`,
      BACKUP_HEALTH_PORT: '0',
      BACKUP_VERIFY: 'checksum',
      // 1 January: no scheduled dump fires during the benchmark. Its default BACKUP_MAX_AGE
      // (twice the longest gap: two years) is over the 24.8-day timer limit the schema enforces.
      BACKUP_SCHEDULE: '0 0 1 1 *',
      BACKUP_MAX_AGE: '7d',
      ...(options.encryptionKeyFile ? { BACKUP_ENCRYPTION_KEY_FILE: options.encryptionKeyFile } : {}),
      ...options.env,
    };
    const config = loadConfig({ env, cwd: dir });
    const connection = createRedisConnection(config.redis);
    const eventsConnection = createRedisConnection(config.redis);
    const queue = createBackupQueue(config, connection);
    const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix: config.redis.prefix });
    await events.waitUntilReady();
    return new WorkerSetup(
      options.label,
      env,
      config,
      queue,
      events,
      [connection, eventsConnection],
      options.entry,
      path.join(dir, 'worker.log'),
    );
  }

  get backupDir(): string {
    return this.config.backupDir;
  }

  /** Highest VmHWM any worker process of this setup reached over its whole life. */
  get lifetimePeakBytes(): number | undefined {
    return this.lifetimePeak;
  }

  private notePeak(bytes: number | undefined): void {
    if (bytes !== undefined) this.lifetimePeak = Math.max(this.lifetimePeak ?? 0, bytes);
  }

  private startWorker(nodeArgs: string[] = []): Promise<WorkerProcess> {
    return WorkerProcess.start({
      entry: this.entry,
      env: this.env,
      logFile: this.logFile,
      queue: this.queue,
      nodeArgs,
    });
  }

  /**
   * Runs `fn` on the setup's long-lived worker, as production runs one: started at the first job,
   * kept between jobs. Its VmHWM is reset before each job, so the reading after it is that job's peak.
   */
  private async onWorker<T>(fn: (worker: WorkerProcess) => Promise<T>): Promise<T> {
    this.worker ??= await this.startWorker();
    const worker = this.worker;
    this.notePeak(worker.resetPeak());
    try {
      return await fn(worker);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nworker log:\n${worker.logTail()}`);
    } finally {
      this.notePeak(worker.peakRssBytes());
    }
  }

  /**
   * A dump job, timed from enqueue to its completion. The chain it starts (verify at the
   * configured level, then prune) is waited for afterwards, untimed, so the next run starts on
   * a quiet worker; the verification's own duration is returned as `chainVerifyMs`.
   */
  async dump(postmasterPid: number): Promise<DumpRun> {
    return this.onWorker((worker) => this.dumpOn(worker, postmasterPid));
  }

  /**
   * One more dump job on a fresh worker under `node --cpu-prof` (the long-lived worker is stopped
   * first, or it would take the job); the profile is written to `dir` when the worker exits.
   */
  async dumpProfiled(postmasterPid: number, dir: string): Promise<DumpRun> {
    await this.stopWorker();
    const worker = await this.startWorker(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    try {
      return await this.dumpOn(worker, postmasterPid);
    } finally {
      await worker.stop();
    }
  }

  private async dumpOn(worker: WorkerProcess, postmasterPid: number): Promise<DumpRun> {
    const cpuBefore = worker.cpuMs();
    const serverBefore = treeCpuMs(postmasterPid);
    const startUs = monotonicUs();
    const started = performance.now();
    const job = await enqueueDump(this.queue, { target: TARGET });
    const result = parseJobResult('dump', job.id, await job.waitUntilFinished(this.events, JOB_TIMEOUT_MS));
    const wallMs = performance.now() - started;
    const endUs = monotonicUs();
    const clientCpuMs = worker.cpuMs() - cpuBefore;
    const serverCpuMs = treeCpuMs(postmasterPid) - serverBefore;
    const phases = await this.phases(job.id!);
    const timings = parseDumpTimings(readFileSync(result.runLog, 'utf8'));
    const verified = await this.finished(result.verifyJobId, 'verify');
    if (verified.pruneJobId) await this.finished(verified.pruneJobId, 'prune');
    const peak = worker.peakRssBytes();
    return {
      sample: {
        wallMs,
        clientCpuMs,
        serverCpuMs,
        sizeBytes: result.sizeBytes,
        jobMs: result.durationMs,
        ...phases,
        ...(timings ? { timings } : {}),
        ...(peak === undefined ? {} : { peakRssBytes: peak }),
      },
      backupId: result.backupId,
      chainVerifyMs: verified.durationMs,
      window: [startUs, endUs],
    };
  }

  /** A verify job at `level`, timed from enqueue to completion (a unique job id per run). */
  async verify(postmasterPid: number, backupId: string, level: VerifyLevel): Promise<Sample> {
    return this.onWorker(async (worker) => {
      const cpuBefore = worker.cpuMs();
      const serverBefore = treeCpuMs(postmasterPid);
      const started = performance.now();
      const job = await enqueueVerify(
        this.queue,
        { backupId, level },
        { jobId: `bench-verify-${level}-${randomBytes(4).toString('hex')}` },
      );
      const result = parseJobResult(
        'verify',
        job.id,
        await job.waitUntilFinished(this.events, JOB_TIMEOUT_MS),
      );
      const wallMs = performance.now() - started;
      const clientCpuMs = worker.cpuMs() - cpuBefore;
      const serverCpuMs = treeCpuMs(postmasterPid) - serverBefore;
      const peak = worker.peakRssBytes();
      return {
        wallMs,
        clientCpuMs,
        serverCpuMs,
        jobMs: result.durationMs,
        ...(await this.phases(job.id!)),
        ...(peak === undefined ? {} : { peakRssBytes: peak }),
      };
    });
  }

  /**
   * The whole chain with a destination: a dump job, its verify, then its copy job, timed from the
   * dump's enqueue until the copy is confirmed ("copied"), with each job's own time and the
   * worker's peak RSS over the chain.
   */
  async dumpThenCopy(): Promise<ChainRun> {
    return this.onWorker(async (worker) => {
      const rssBeforeBytes = rssBytes(worker.pid);
      const started = performance.now();
      const dump = await enqueueDump(this.queue, { target: TARGET });
      const dumped = parseJobResult(
        'dump',
        dump.id,
        await dump.waitUntilFinished(this.events, JOB_TIMEOUT_MS),
      );
      const dumpMs = performance.now() - started;
      const verified = await this.finished(dumped.verifyJobId, 'verify');
      const copyId = verified.copyJobIds?.[0];
      const copyJob = copyId ? await Job.fromId(this.queue, copyId) : undefined;
      if (!copyJob) throw new Error(`verify job ${dumped.verifyJobId} enqueued no copy job`);
      const copied = parseJobResult(
        'copy',
        copyId,
        await copyJob.waitUntilFinished(this.events, JOB_TIMEOUT_MS),
      );
      const copiedMs = performance.now() - started;
      const copyPhases = await this.phases(copyId!);
      if (copied.pruneJobId) await this.finished(copied.pruneJobId, 'prune');
      return {
        backupId: dumped.backupId,
        sizeBytes: dumped.sizeBytes,
        dumpMs,
        verifyMs: verified.durationMs,
        copyQueueMs: copyPhases.queueMs,
        copyMs: copyPhases.processingMs,
        enqueueToCopiedMs: copiedMs,
        partSize: copied.partSize,
        parts: copied.parts,
        peakRssBytes: worker.peakRssBytes(),
        rssBeforeBytes,
      };
    });
  }

  /**
   * A copy job alone for `backupId` (its local manifest must not record a copy there yet), timed
   * from its enqueue to its completion, with the worker's peak RSS while it ran.
   */
  async copyAlone(backupId: string, destination: string): Promise<CopyRun> {
    return this.onWorker(async (worker) => {
      const rssBeforeBytes = rssBytes(worker.pid);
      const started = performance.now();
      const job = await enqueueCopy(
        this.queue,
        { backupId, destination },
        { jobId: `bench-copy-${randomBytes(4).toString('hex')}` },
      );
      const result = parseJobResult('copy', job.id, await job.waitUntilFinished(this.events, JOB_TIMEOUT_MS));
      const wallMs = performance.now() - started;
      if (result.reused) throw new Error(`copy job ${job.id} reused an earlier copy: nothing was uploaded`);
      return {
        wallMs,
        ...(await this.phases(job.id!)),
        partSize: result.partSize,
        parts: result.parts,
        peakRssBytes: worker.peakRssBytes(),
        rssBeforeBytes,
      };
    });
  }

  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    this.notePeak(worker.peakRssBytes());
    await worker.stop();
  }

  /** Where a finished job's time went, from the timestamps BullMQ keeps. */
  private async phases(jobId: string): Promise<Pick<Sample, 'queueMs' | 'processingMs'>> {
    const job = await Job.fromId(this.queue, jobId);
    if (!job?.processedOn || !job.finishedOn) return {};
    return { queueMs: job.processedOn - job.timestamp, processingMs: job.finishedOn - job.processedOn };
  }

  private async finished<N extends 'verify' | 'prune'>(
    jobId: string | undefined,
    name: N,
  ): Promise<JobResult<N>> {
    const job = jobId ? await Job.fromId(this.queue, jobId) : undefined;
    if (!job) throw new Error(`${name} job ${jobId} not found`);
    return parseJobResult(name, jobId, await job.waitUntilFinished(this.events, JOB_TIMEOUT_MS));
  }

  async close(): Promise<void> {
    await this.stopWorker().catch(() => undefined);
    await this.events.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
    for (const connection of this.connections) connection.disconnect();
  }
}
