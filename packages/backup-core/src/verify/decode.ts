import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, type OperatorKey } from '../crypto/index.js';
import { ByteTap } from '../dump/byte-tap.js';
import { decompressorFor } from '../dump/compression.js';
import { BackupError, type BackupErrorCode } from '../errors.js';
import { type RunningChild, startChild } from '../process/child.js';
import type { CatalogEntry } from '../storage/catalog.js';

export interface DecodeOptions {
  keyring: readonly OperatorKey[];
  consumer?: ArchiveConsumer;
  /**
   * A file descriptor the decompressor writes the decoded archive to, instead of a consumer (no
   * process and no pipe between). Only for a compressed backup. Its write failures are the
   * writer's (DISK_FULL, WRITE_FAILED in `consumerError`), not a corrupt stream.
   */
  output?: number;
  signal?: AbortSignal;
}

/** The program that consumes the decoded pg_dump archive (pg_restore in one of its modes). */
export interface ArchiveConsumer {
  name: string;
  program: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  failureCode: BackupErrorCode;
  classify?: (stderr: string) => BackupErrorCode | undefined;
  /** pg_restore --list stops reading after the table of contents: a closed pipe is then no error. */
  mayStopEarly?: boolean;
  /** Where the consumer's stdout goes ('pipe' keeps it for `output`). */
  stdout: 'pipe' | 'ignore';
  /** Information lines of its stderr to hand on rather than keep for the error (process/child.ts). */
  stderrLines?: { pattern: RegExp; onLine: (line: string) => void };
}

export interface DecodeOutcome {
  /** SHA-256 of every byte of the file, as read. */
  sha256: string;
  bytes: number;
  /** Failure of reading, decrypting or decompressing: the file itself is bad. */
  decodeError?: BackupError;
  /** Failure of the consumer, when the bytes decoded fine up to it. */
  consumerError?: BackupError;
  /** The consumer's stdout, when asked for. */
  output: string;
  /** False when the consumer stopped early and the file was not read to its end. */
  readToEnd: boolean;
}

function isBrokenPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED';
}

/** A sink that discards: the checksum level only needs every byte read, hashed and authenticated. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

/**
 * Reads a backup file once: hashes the raw bytes, decrypts (authenticating every chunk),
 * decompresses in a child process (which checks the frame checksums) and hands the archive to
 * `consumer` (or only tests the compressed stream when there is none). Each failure is returned
 * where it happened, so the caller can report the cause rather than its consequences.
 *
 * A compressed, unencrypted backup (the default) never passes through Node: the decompressor
 * reads the open file itself and Node hashes the same open file beside it (positional reads of
 * the page cache). On a busy machine every hop of the bytes through Node's event loop waits for
 * Node to be scheduled, with a 64 KiB pipe between; this way the data path is the same as
 * `zstd -dc file | pg_restore` (issue 18).
 */
export async function decodeBackup(entry: CatalogEntry, options: DecodeOptions): Promise<DecodeOutcome> {
  const { manifest } = entry;
  if (manifest.encryption && options.keyring.length === 0) {
    throw new BackupError(
      'ENCRYPTION_KEY_MISSING',
      `backup ${manifest.id} is encrypted with key ${manifest.encryption.keyId}: set BACKUP_ENCRYPTION_KEY_FILE (or BACKUP_DECRYPTION_KEY_FILES) to that key`,
    );
  }
  const decompress = decompressorFor(manifest.compression);
  // Uncompressed archives keep the pipe: pg_restore given a seekable file may skip over data.
  if (decompress && !manifest.encryption) return decodeFromFile(entry, decompress, options);
  return decodeThroughNode(entry, decompress, options);
}

/** Starts the consumer with the given stdin, collecting its stdout when asked for. */
function startConsumer(
  spec: ArchiveConsumer,
  stdin: 'pipe' | Readable | number,
  onOutput: (text: string) => void,
): RunningChild {
  const child = startChild(spec.name, spec.program, spec.args, {
    env: spec.env,
    stdio: [stdin, spec.stdout, 'pipe'],
    failureCode: spec.failureCode,
    ...(spec.classify ? { classify: spec.classify } : {}),
    ...(spec.stderrLines ? { stderrLines: spec.stderrLines } : {}),
  });
  child.process.stdout?.setEncoding('utf8');
  child.process.stdout?.on('data', onOutput);
  return child;
}

/** The decompressor's failure, unless it only says that the consumer stopped reading. */
function judgeDecompressor(
  manifest: CatalogEntry['manifest'],
  decompressed: PromiseSettledResult<void>,
  stoppedEarly: boolean,
  outcome: DecodeOutcome,
  writesOutput: boolean,
): void {
  if (outcome.decodeError || decompressed.status !== 'rejected') return;
  const error = decompressed.reason as BackupError;
  const signal = error.details?.signal;
  // Writing the output file itself, its failures are the disk's, not the backup's.
  const writeFailure = writesOutput ? outputWriteFailure(error) : undefined;
  if (writeFailure) {
    outcome.consumerError = writeFailure;
    return;
  }
  // A decompressor killed by SIGPIPE only tells that the consumer stopped reading.
  if (
    signal === 'SIGPIPE' ||
    (stoppedEarly && /Broken pipe|write error|Connection reset|EPIPE/i.test(error.message))
  ) {
    outcome.readToEnd = false;
    return;
  }
  outcome.decodeError = new BackupError(
    'COMPRESSED_STREAM_CORRUPT',
    `the ${manifest.compression} stream is corrupt: ${error.message}`,
    { cause: error },
  );
}

/** A decompressor's failure to write its output file (full, over the size limit, I/O error). */
function outputWriteFailure(error: BackupError): BackupError | undefined {
  const full =
    error.details?.signal === 'SIGXFSZ' || /No space left|File too large|quota exceeded/i.test(error.message);
  // zstd says "Write error : cannot write block : <reason>", gzip "stdout: <reason>".
  if (!full && !/write error|cannot write|stdout: |Input\/output error/i.test(error.message))
    return undefined;
  return new BackupError(
    full ? 'DISK_FULL' : 'WRITE_FAILED',
    `could not write the decoded archive: ${error.message}`,
    { cause: error },
  );
}

function readFailure(entry: CatalogEntry, error: unknown): BackupError {
  // Gone is a defect of the backup; unreadable (permissions, I/O) is a problem of this host.
  return new BackupError(
    (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'BACKUP_FILE_MISSING' : 'BACKUP_FILE_UNREADABLE',
    `could not read ${entry.filePath}: ${(error as Error).message}`,
    { cause: error },
  );
}

/** SHA-256 of an open file by positional reads, which leave the descriptor's offset to the decompressor. */
async function hashOpenFile(
  handle: FileHandle,
  signal: AbortSignal | undefined,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(HASH_READ_BYTES);
  let bytes = 0;
  for (;;) {
    signal?.throwIfAborted();
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, bytes);
    if (bytesRead === 0) return { sha256: hash.digest('hex'), bytes };
    hash.update(buffer.subarray(0, bytesRead));
    bytes += bytesRead;
  }
}

const HASH_READ_BYTES = 1024 * 1024;

async function decodeFromFile(
  entry: CatalogEntry,
  decompress: { program: string; args: string[] },
  options: DecodeOptions,
): Promise<DecodeOutcome> {
  const { manifest } = entry;
  options.signal?.throwIfAborted();
  let handle: FileHandle;
  try {
    handle = await fs.open(entry.filePath, 'r');
  } catch (error) {
    return { sha256: '', bytes: 0, output: '', readToEnd: true, decodeError: readFailure(entry, error) };
  }
  let output = '';
  const children: RunningChild[] = [];
  const stopAll = () => {
    for (const child of children) child.terminate(500);
  };
  options.signal?.addEventListener('abort', stopAll, { once: true });
  try {
    // Aborted while the file was being opened: the listener above came too late to hear it.
    options.signal?.throwIfAborted();
    const testOnly = options.consumer === undefined && options.output === undefined;
    const decompressor = startChild(
      decompress.program,
      decompress.program,
      testOnly ? ['-t', '-q'] : decompress.args,
      {
        env: process.env,
        stdio: [handle.fd, options.output ?? (testOnly ? 'ignore' : 'pipe'), 'pipe'],
        failureCode: 'COMPRESSED_STREAM_CORRUPT',
      },
    );
    children.push(decompressor);
    let consumer: RunningChild | undefined;
    if (options.consumer) {
      consumer = startConsumer(options.consumer, decompressor.process.stdout!, (text) => {
        output += text;
      });
      children.push(consumer);
      decompressor.process.stdout!.destroy();
    }
    // A consumer that may stop early (pg_restore --list) reads a few blocks: hashing the whole
    // file would be wasted, and nobody judges this pass's checksum (readToEnd says so).
    const hashing =
      options.consumer?.mayStopEarly === true
        ? Promise.resolve(undefined)
        : hashOpenFile(handle, options.signal);
    hashing.catch(stopAll);
    const [hashed, decompressed, consumed] = await Promise.allSettled([
      hashing,
      decompressor.finished,
      consumer?.finished ?? Promise.resolve(),
    ]);
    options.signal?.throwIfAborted();
    const read = hashed.status === 'fulfilled' ? hashed.value : undefined;
    const outcome: DecodeOutcome = {
      sha256: read?.sha256 ?? '',
      bytes: read?.bytes ?? 0,
      output,
      readToEnd: read !== undefined,
    };
    if (hashed.status === 'rejected') outcome.decodeError = readFailure(entry, hashed.reason);
    const consumerFailed = consumed.status === 'rejected' ? (consumed.reason as BackupError) : undefined;
    const stoppedEarly = options.consumer?.mayStopEarly === true && consumerFailed === undefined;
    judgeDecompressor(manifest, decompressed, stoppedEarly, outcome, options.output !== undefined);
    if (consumerFailed) outcome.consumerError = consumerFailed;
    return outcome;
  } finally {
    options.signal?.removeEventListener('abort', stopAll);
    await handle.close();
  }
}

/** Reads of an uncompressed archive: a sixteenth of the reads, callbacks and pipe writes of 64 KiB. */
const PLAIN_READ_BYTES = 1024 * 1024;

/**
 * Reads of an encrypted backup. Decrypting 400 MB read 1 MiB at a time peaked at 173 MB of RSS
 * (+110 MB over the process at rest), read 256 KiB at a time at 120 MB, for 0.15 s more
 * (a 1 MiB read and its 1 MiB of plaintext are garbage the collector is slower to reclaim; the
 * live data is a chunk either way). It was the encrypted worker's peak: its checksum verification.
 */
const ENCRYPTED_READ_BYTES = 256 * 1024;

/** Encrypted or uncompressed backups: the bytes go through Node (decryption, or a plain pipe). */
async function decodeThroughNode(
  entry: CatalogEntry,
  decompress: { program: string; args: string[] } | undefined,
  options: DecodeOptions,
): Promise<DecodeOutcome> {
  const { manifest } = entry;
  const children: RunningChild[] = [];
  let consumer: RunningChild | undefined;
  let decompressor: RunningChild | undefined;
  let sink: Writable;
  let output = '';
  const collect = (text: string) => {
    output += text;
  };

  if (decompress) {
    const testOnly = options.consumer === undefined && options.output === undefined;
    decompressor = startChild(
      decompress.program,
      decompress.program,
      testOnly ? ['-t', '-q'] : decompress.args,
      {
        env: process.env,
        stdio: ['pipe', options.output ?? (testOnly ? 'ignore' : 'pipe'), 'pipe'],
        failureCode: 'COMPRESSED_STREAM_CORRUPT',
      },
    );
    children.push(decompressor);
    if (options.consumer) {
      consumer = startConsumer(options.consumer!, decompressor.process.stdout!, collect);
      children.push(consumer);
      decompressor.process.stdout!.destroy();
    }
    sink = decompressor.process.stdin!;
  } else if (options.output !== undefined) {
    throw new TypeError('decodeBackup: an output descriptor needs a compressed backup');
  } else if (options.consumer) {
    consumer = startConsumer(options.consumer, 'pipe', collect);
    children.push(consumer);
    sink = consumer.process.stdin!;
  } else {
    sink = discard();
  }

  const tap = new ByteTap();
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [
    createReadStream(entry.filePath, {
      highWaterMark: manifest.encryption ? ENCRYPTED_READ_BYTES : PLAIN_READ_BYTES,
    }),
    tap,
  ];
  if (manifest.encryption) stages.push(createDecryptStream({ keyring: options.keyring }));
  stages.push(sink);

  let streamError: unknown;
  try {
    await pipeline(stages as [Readable, Writable], options.signal ? { signal: options.signal } : {});
  } catch (error) {
    streamError = error;
  }
  if (options.signal?.aborted) for (const child of children) child.terminate(500);
  const [decompressed, consumed] = await Promise.allSettled([
    decompressor?.finished ?? Promise.resolve(),
    consumer?.finished ?? Promise.resolve(),
  ]);
  options.signal?.throwIfAborted();

  const outcome: DecodeOutcome = { sha256: tap.digest(), bytes: tap.bytes, output, readToEnd: true };
  const consumerFailed = consumed.status === 'rejected' ? (consumed.reason as BackupError) : undefined;
  const stoppedEarly = options.consumer?.mayStopEarly === true && consumerFailed === undefined;

  if (streamError !== undefined) {
    if (
      streamError instanceof BackupError &&
      streamError.code === 'DECRYPT_TRUNCATED' &&
      tap.bytes === manifest.sizeBytes
    ) {
      // The decryptor cannot tell a cut inside the last chunk from a modified last chunk, but the
      // file has every byte the dump wrote: it was not cut, its last chunk was changed.
      outcome.decodeError = new BackupError(
        'DECRYPT_TAMPERED',
        `backup ${manifest.id} has the ${manifest.sizeBytes} bytes its manifest records, yet its last encrypted chunk does not authenticate: the file was modified`,
        { cause: streamError },
      );
    } else if (streamError instanceof BackupError) outcome.decodeError = streamError;
    else if (isBrokenPipe(streamError)) {
      // The consumer (or decompressor) closed its input: its own exit status says why.
      outcome.readToEnd = false;
    } else outcome.decodeError = readFailure(entry, streamError);
  }
  judgeDecompressor(manifest, decompressed, stoppedEarly, outcome, options.output !== undefined);
  if (consumerFailed) outcome.consumerError = consumerFailed;
  return outcome;
}
