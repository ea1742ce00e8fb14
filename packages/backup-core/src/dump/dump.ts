import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream, ENCRYPTION_ALGORITHM, type OperatorKey } from '../crypto/index.js';
import { BackupError } from '../errors.js';
import { newBackupId } from '../ids.js';
import { type Logger, silentLogger } from '../logger.js';
import { type Compression, isVerified, type Manifest } from '../manifest.js';
import { classifyPostgresError, libpqEnvironment, type PgConnection } from '../postgres/connection.js';
import { type ExportedSnapshot, exportSnapshot } from '../postgres/snapshot.js';
import { findPgTool } from '../postgres/tools.js';
import { type RunningChild, startChild } from '../process/child.js';
import { RunLog } from '../run-log.js';
import { findBackup, findLatestVerified, writeManifest } from '../storage/catalog.js';
import { ensurePrivateDirectory, fsyncDirectory, writeError } from '../storage/durable-fs.js';
import { backupFileName, partialPathFor, targetDirectory } from '../storage/layout.js';
import { ByteTap } from './byte-tap.js';
import { compressorFor } from './compression.js';
import { type DumpTimings, PhaseClock } from './dump-timings.js';
import { FileFollower } from './file-follower.js';
import { FlushingFile } from './flushing-file.js';
import { bytesWrittenBy } from './process-io.js';
import { judgeSize } from './suspicion.js';

/** What a dump needs to know about its target (a TargetConfig from the configuration fits). */
export interface DumpTarget {
  name: string;
  connection: PgConnection;
  compression: Compression;
  /** A dump smaller than this fraction of the previous verified one fails as suspicious (0 disables). */
  suspiciousRatio: number;
}

export type DumpPhase = 'connecting' | 'dumping' | 'finishing' | 'done';

export interface DumpProgress {
  phase: DumpPhase;
  /** Bytes pg_dump has produced (before compression), when the platform can tell. */
  archiveBytes: number;
  /** Bytes written to the backup file so far. */
  storedBytes: number;
  /** Size of the dumped tables: the denominator of `percent`. */
  estimatedBytes: number;
  /** 0..99 while dumping (an estimate), 100 when done. */
  percent: number;
}

export interface DumpOptions {
  target: DumpTarget;
  backupDir: string;
  logDir: string;
  /** When set, the backup is encrypted with a fresh data key wrapped by this key. */
  encryptionKey?: OperatorKey;
  /**
   * A fixed id makes the dump idempotent: if a backup with this id is already complete (the
   * previous run of the same job died after finishing), it is returned instead of dumped again.
   */
  backupId?: string;
  jobId?: string;
  signal?: AbortSignal;
  /** Abort when neither pg_dump nor the file has grown for this long. Default 10 minutes. */
  stallTimeoutMs?: number;
  onProgress?: (progress: DumpProgress) => void;
  logger?: Logger;
  /** Lines are added to this run log instead of a new one (the caller then closes it). */
  runLog?: RunLog;
}

export interface DumpResult {
  manifest: Manifest;
  filePath: string;
  manifestPath: string;
  /** True when the backup already existed (a re-run of a finished job). */
  reused: boolean;
  /** Where the wall time went, phase by phase (also written to the run log). */
  timings: DumpTimings;
}

const PROGRESS_INTERVAL_MS = 1_000;
const DEFAULT_STALL_TIMEOUT_MS = 10 * 60_000;

function abortedError(signal: AbortSignal | undefined): BackupError {
  return new BackupError('ABORTED', `dump aborted: ${String(signal?.reason ?? 'cancelled')}`);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

/**
 * Dumps one database into a new backup: `pg_dump -Fc -Z0` piped into the compressor, then in
 * Node the optional encryption and a SHA-256 of the stored bytes, into a partial file that is
 * fsynced and renamed only when every stage exited 0; the manifest is written last. Any failure
 * or abort kills the child processes and removes the partial file.
 */
export async function runDump(options: DumpOptions): Promise<DumpResult> {
  const ownRunLog = options.runLog === undefined;
  const startedAt = new Date();
  const runLog =
    options.runLog ?? (await RunLog.open(options.logDir, options.target.name, 'dump', startedAt));
  try {
    const clock = new PhaseClock();
    const result = await dumpInto(options, runLog, startedAt, clock);
    await runLog.line(clock.format());
    const summary = result.reused
      ? `backup ${result.manifest.id} already complete (re-run of the same job): nothing dumped`
      : `backup ${result.manifest.id} written: ${result.filePath} (${result.manifest.sizeBytes} bytes, sha256 ${result.manifest.sha256}, ${result.manifest.durationMs} ms)`;
    if (ownRunLog) await runLog.succeed(summary);
    else await runLog.line(summary);
    return result;
  } catch (error) {
    if (ownRunLog) await runLog.fail(error).catch(() => undefined);
    else {
      const code = error instanceof BackupError ? error.code : 'INTERNAL';
      await runLog.line(`dump failed: ${code}: ${(error as Error).message}`).catch(() => undefined);
    }
    throw error;
  }
}

async function dumpInto(
  options: DumpOptions,
  runLog: RunLog,
  startedAt: Date,
  clock: PhaseClock,
): Promise<DumpResult> {
  const { target, backupDir } = options;
  const logger = (options.logger ?? silentLogger).child({ target: target.name });
  throwIfAborted(options.signal);

  const id = options.backupId ?? newBackupId(target.name, startedAt);
  const existing = await clock.time('lookup', () => findBackup(backupDir, id).catch(() => undefined));
  if (existing) {
    logger.info({ backupId: id }, 'backup already complete, not dumping again');
    return {
      manifest: existing.manifest,
      filePath: existing.filePath,
      manifestPath: existing.manifestPath,
      reused: true,
      timings: clock.timings,
    };
  }

  const emit = (progress: DumpProgress) => options.onProgress?.(progress);
  emit({ phase: 'connecting', archiveBytes: 0, storedBytes: 0, estimatedBytes: 0, percent: 0 });
  await runLog.line(
    `dump of ${target.name} (database ${target.connection.database} on ${target.connection.host}:${target.connection.port}) as ${id}`,
  );

  // Independent of the snapshot: done while it is being taken.
  const dir = targetDirectory(backupDir, target.name);
  const directories = clock.time('directories', async () => {
    await ensurePrivateDirectory(backupDir);
    await ensurePrivateDirectory(dir);
  });
  directories.catch(() => undefined);
  // The snapshot's queries wait for the same table locks as pg_dump: the stall limit covers them.
  const snapshot = await clock.time('snapshot', () =>
    exportSnapshot(target.connection, {
      lockTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );
  let closing: Promise<void> | undefined;
  try {
    const pgDump = await clock.time('probes', () => findPgTool('pg_dump', snapshot.serverMajor));
    await runLog.line(
      `server PostgreSQL ${snapshot.serverVersion}, pg_dump ${pgDump.version} (${pgDump.path}), snapshot ${snapshot.snapshotId}`,
    );
    await directories;
    const fileName = backupFileName(id, target.compression, options.encryptionKey !== undefined);
    const finalPath = path.join(dir, fileName);
    const partialPath = partialPathFor(finalPath);

    // The previous verified backup (for the size check) does not depend on this dump: looked up
    // while it streams.
    const previousLookup = clock.time('catalog', () =>
      findLatestVerified(backupDir, target.name, isVerified),
    );
    previousLookup.catch(() => undefined);
    const streamed = await streamDump({
      options,
      snapshot,
      pgDumpPath: pgDump.path,
      partialPath,
      emit,
      logger,
      clock,
    });

    emit({
      phase: 'finishing',
      archiveBytes: streamed.archiveBytes,
      storedBytes: streamed.storedBytes,
      estimatedBytes: snapshot.estimatedBytes,
      percent: 99,
    });
    try {
      if (streamed.storedBytes === 0) {
        throw new BackupError('DUMP_EMPTY', 'pg_dump exited 0 but produced no output: no backup was written');
      }
      const tables = await clock.time('countsWait', () => streamed.tables);
      // pg_dump has exited and the counts are in: the snapshot's transaction ends while the
      // file is published.
      closing = clock.time('close', () => snapshot.close());
      const previous = await previousLookup;
      const verdict = judgeSize({
        sizeBytes: streamed.storedBytes,
        tables,
        previous: previous?.manifest,
        compression: target.compression,
        ratio: target.suspiciousRatio,
      });
      await clock.time('publish', async () => {
        await fs.rename(partialPath, finalPath);
        await fsyncDirectory(dir);
      });
      const completedAt = new Date();
      const manifest: Manifest = {
        formatVersion: 1,
        id,
        target: target.name,
        database: target.connection.database,
        createdAt: startedAt.toISOString(),
        completedAt: completedAt.toISOString(),
        durationMs: completedAt.getTime() - startedAt.getTime(),
        file: fileName,
        format: 'custom',
        compression: target.compression,
        encryption: options.encryptionKey
          ? { algorithm: ENCRYPTION_ALGORITHM, keyId: options.encryptionKey.id }
          : null,
        sizeBytes: streamed.storedBytes,
        sha256: streamed.sha256,
        pgDumpVersion: pgDump.version,
        serverVersion: snapshot.serverVersion,
        tableCount: tables.length,
        tables,
        status: verdict.suspicious ? 'suspicious' : 'complete',
        ...(verdict.reason ? { suspicionReason: verdict.reason } : {}),
        verifications: [],
        ...(options.jobId ? { jobId: options.jobId } : {}),
        hostname: os.hostname(),
      };
      const entry = await clock.time('manifest', () => writeManifest(backupDir, manifest));
      emit({
        phase: 'done',
        archiveBytes: streamed.archiveBytes,
        storedBytes: streamed.storedBytes,
        estimatedBytes: snapshot.estimatedBytes,
        percent: 100,
      });
      if (verdict.suspicious) {
        throw new BackupError(
          'DUMP_SUSPICIOUS',
          `backup ${id} is suspicious and is not counted as good: ${verdict.reason}`,
          {
            details: { backupId: id },
          },
        );
      }
      return {
        manifest,
        filePath: entry.filePath,
        manifestPath: entry.manifestPath,
        reused: false,
        timings: clock.timings,
      };
    } finally {
      await fs.rm(partialPath, { force: true });
    }
  } finally {
    await (closing ?? clock.time('close', () => snapshot.close()));
  }
}

interface StreamInput {
  options: DumpOptions;
  snapshot: ExportedSnapshot;
  pgDumpPath: string;
  partialPath: string;
  emit: (progress: DumpProgress) => void;
  logger: Logger;
  clock: PhaseClock;
}

interface StreamOutput {
  storedBytes: number;
  archiveBytes: number;
  sha256: string;
  /** Row counts, taken in the snapshot while pg_dump ran. */
  tables: ReturnType<ExportedSnapshot['tables']>;
}

/** Runs the processes and streams; on any failure nothing is left but the thrown error. */
async function streamDump(input: StreamInput): Promise<StreamOutput> {
  const { options, snapshot, partialPath, emit, clock } = input;
  const streamStarted = performance.now();
  const env = libpqEnvironment(options.target.connection);
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const children: RunningChild[] = [];
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(abortedError(options.signal));
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  // An abort during the snapshot (before this listener existed) would otherwise go unnoticed.
  if (options.signal?.aborted) onOuterAbort();
  let timer: NodeJS.Timeout | undefined;
  let output: FlushingFile | undefined;
  let direct: { handle: FileHandle; follower: FileFollower } | undefined;

  try {
    const compressor = compressorFor(options.target.compression);
    // The compressor writes the file itself unless Node must see the bytes on their way (to
    // encrypt them) or the writer is pg_dump, which seeks back in a seekable file.
    if (compressor && !options.encryptionKey) {
      // Read and write: the compressor writes through its copy of the descriptor, the follower reads.
      const handle = await fs.open(partialPath, 'wx+', 0o600);
      direct = { handle, follower: new FileFollower(handle) };
    } else {
      output = await FlushingFile.create(partialPath);
    }
    const pgDump = startChild(
      'pg_dump',
      input.pgDumpPath,
      ['--format=custom', '--compress=0', `--snapshot=${snapshot.snapshotId}`, '--no-password'],
      { env, stdio: ['ignore', 'pipe', 'pipe'], failureCode: 'DUMP_FAILED', classify: classifyPostgresError },
    );
    children.push(pgDump);
    let source: Readable = pgDump.process.stdout!;
    if (compressor) {
      // pg_dump writes straight into the compressor's stdin: the bytes never pass through Node.
      const child = startChild(compressor.program, compressor.program, compressor.args, {
        env: process.env,
        stdio: [pgDump.process.stdout!, direct ? direct.handle.fd : 'pipe', 'pipe'],
        failureCode: 'COMPRESSION_FAILED',
        classify: classifyWriteFailure,
      });
      children.push(child);
      // Our copy of the pipe's read end must go, or pg_dump would never see SIGPIPE if zstd died.
      pgDump.process.stdout!.destroy();
      if (!direct) source = child.process.stdout!;
    }
    const tables = clock.time('counts', () => snapshot.tables());
    tables.catch(() => undefined);

    const tap = new ByteTap();
    const storedBytes = () => direct?.follower.bytes ?? tap.bytes;
    let archiveBytes = 0;
    let lastSeen = { archive: -1, stored: -1, at: Date.now() };
    timer = setInterval(() => {
      void bytesWrittenBy(pgDump.process.pid).then((written) => {
        if (written !== undefined) archiveBytes = written;
        const now = Date.now();
        const stored = storedBytes();
        if (archiveBytes !== lastSeen.archive || stored !== lastSeen.stored) {
          lastSeen = { archive: archiveBytes, stored, at: now };
        } else if (now - lastSeen.at > stallTimeoutMs && !controller.signal.aborted) {
          controller.abort(
            new BackupError(
              'DUMP_STALLED',
              `pg_dump produced no bytes for ${Math.round(stallTimeoutMs / 1000)} s (a lock wait or a hung server?): aborted`,
            ),
          );
        }
        const estimated = snapshot.estimatedBytes;
        const done = archiveBytes > 0 ? archiveBytes : stored;
        const percent = estimated > 0 ? Math.min(99, Math.floor((done / estimated) * 100)) : 0;
        emit({ phase: 'dumping', archiveBytes, storedBytes: stored, estimatedBytes: estimated, percent });
      });
    }, PROGRESS_INTERVAL_MS);
    emit({
      phase: 'dumping',
      archiveBytes: 0,
      storedBytes: 0,
      estimatedBytes: snapshot.estimatedBytes,
      percent: 0,
    });

    const abortPromise = new Promise<never>((_, reject) => {
      if (controller.signal.aborted) reject(controller.signal.reason);
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    abortPromise.catch(() => undefined);

    const stages: Array<Readable | NodeJS.WritableStream> = [];
    let streamError: unknown;
    try {
      if (direct) {
        const writerDone = Promise.allSettled(children.map((child) => child.finished));
        // The follower stops by itself once the compressor has exited and it has read the rest.
        await Promise.race([
          Promise.all([writerDone, direct.follower.follow(writerDone, controller.signal)]),
          abortPromise,
        ]);
      } else {
        stages.push(
          ...(options.encryptionKey
            ? [source, createEncryptStream({ key: options.encryptionKey }), tap, output!]
            : [source, tap, output!]),
        );
        await Promise.race([pipeline(stages as [Readable, ...NodeJS.WritableStream[]]), abortPromise]);
      }
    } catch (error) {
      streamError = error;
    }
    if (streamError !== undefined || controller.signal.aborted) {
      for (const child of children) child.terminate();
      for (const stage of stages) (stage as { destroy?: () => void }).destroy?.();
      await Promise.allSettled(children.map((child) => child.finished));
      if (controller.signal.aborted) throw controller.signal.reason;
      throw writeError(streamError, partialPath);
    }
    await rootCause(pgDump, children[1]);
    clock.add('stream', performance.now() - streamStarted);

    // The data must be on disk before the rename makes it a backup. Most of it already is: the
    // file was written out in the background as it grew.
    const sink = direct ? direct.follower : output!;
    await clock.time('fsync', () => sink.sync());
    await closeOutput(output, direct);
    const finalWritten = await bytesWrittenBy(pgDump.process.pid);
    return {
      storedBytes: storedBytes(),
      archiveBytes: finalWritten ?? archiveBytes,
      sha256: direct ? direct.follower.digest() : tap.digest(),
      tables,
    };
  } catch (error) {
    for (const child of children) child.terminate(500);
    await Promise.allSettled(children.map((child) => child.finished));
    await closeOutput(output, direct);
    await fs.rm(partialPath, { force: true });
    throw error instanceof BackupError ? error : writeError(error, partialPath);
  } finally {
    if (timer) clearInterval(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** Closes the partial file after any background flush; safe to call more than once. */
async function closeOutput(
  output: FlushingFile | undefined,
  direct: { handle: FileHandle; follower: FileFollower } | undefined,
): Promise<void> {
  await output?.closeFile();
  await direct?.follower.close();
}

/**
 * A compressor writing the backup file itself reports a full disk in its stderr, or is killed by
 * SIGXFSZ at a file-size limit (children start with default signal handling): both DISK_FULL, as
 * when Node writes the file (writeError).
 */
function classifyWriteFailure(stderr: string, signal: NodeJS.Signals | null): 'DISK_FULL' | undefined {
  if (signal === 'SIGXFSZ') return 'DISK_FULL';
  return /No space left on device|Disk quota exceeded|File too large/i.test(stderr) ? 'DISK_FULL' : undefined;
}

/**
 * Waits for every stage and reports the failure that caused the others: pg_dump killed by
 * SIGPIPE means the compressor died first, so the compressor's error is the one to show.
 */
async function rootCause(pgDump: RunningChild, compressor: RunningChild | undefined): Promise<void> {
  const [dumped, compressed] = await Promise.allSettled([pgDump.finished, compressor?.finished]);
  if (dumped.status === 'rejected') {
    const details = (dumped.reason as BackupError).details;
    // pg_dump learns that its reader died from SIGPIPE, or, when it ignores that signal, from a
    // failed write ("could not write to output file: Broken pipe").
    const lostItsReader =
      details?.signal === 'SIGPIPE' ||
      /Broken pipe|could not write to output/i.test(String(details?.stderr ?? ''));
    if (lostItsReader && compressed?.status === 'rejected') throw compressed.reason;
    throw dumped.reason;
  }
  if (compressed?.status === 'rejected') throw compressed.reason;
}
