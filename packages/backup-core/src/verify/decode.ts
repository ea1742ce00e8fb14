import { createReadStream } from 'node:fs';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, type OperatorKey } from '../crypto/index.js';
import { ByteTap } from '../dump/byte-tap.js';
import { decompressorFor } from '../dump/compression.js';
import { BackupError, type BackupErrorCode } from '../errors.js';
import { type RunningChild, startChild } from '../process/child.js';
import type { CatalogEntry } from '../storage/catalog.js';

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
 */
export async function decodeBackup(
  entry: CatalogEntry,
  options: { keyring: readonly OperatorKey[]; consumer?: ArchiveConsumer; signal?: AbortSignal },
): Promise<DecodeOutcome> {
  const { manifest } = entry;
  if (manifest.encryption && options.keyring.length === 0) {
    throw new BackupError(
      'ENCRYPTION_KEY_MISSING',
      `backup ${manifest.id} is encrypted with key ${manifest.encryption.keyId}: set BACKUP_ENCRYPTION_KEY_FILE (or BACKUP_DECRYPTION_KEY_FILES) to that key`,
    );
  }
  const children: RunningChild[] = [];
  const decompress = decompressorFor(manifest.compression);
  let consumer: RunningChild | undefined;
  let decompressor: RunningChild | undefined;
  let sink: Writable;
  let output = '';

  const startConsumer = (stdin: 'pipe' | Readable) => {
    const spec = options.consumer!;
    const child = startChild(spec.name, spec.program, spec.args, {
      env: spec.env,
      stdio: [stdin, spec.stdout, 'pipe'],
      failureCode: spec.failureCode,
      ...(spec.classify ? { classify: spec.classify } : {}),
    });
    child.process.stdout?.setEncoding('utf8');
    child.process.stdout?.on('data', (text: string) => {
      output += text;
    });
    children.push(child);
    return child;
  };

  if (decompress) {
    const testOnly = options.consumer === undefined;
    decompressor = startChild(
      decompress.program,
      decompress.program,
      testOnly ? ['-t', '-q'] : decompress.args,
      {
        env: process.env,
        stdio: ['pipe', testOnly ? 'ignore' : 'pipe', 'pipe'],
        failureCode: 'COMPRESSED_STREAM_CORRUPT',
      },
    );
    children.push(decompressor);
    if (!testOnly) {
      consumer = startConsumer(decompressor.process.stdout!);
      decompressor.process.stdout!.destroy();
    }
    sink = decompressor.process.stdin!;
  } else if (options.consumer) {
    consumer = startConsumer('pipe');
    sink = consumer.process.stdin!;
  } else {
    sink = discard();
  }

  const tap = new ByteTap();
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [
    // 1 MiB reads rather than 64 KiB: a sixteenth of the reads, callbacks and writes to the pipe.
    createReadStream(entry.filePath, { highWaterMark: 1024 * 1024 }),
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
    } else {
      // Gone is a defect of the backup; unreadable (permissions, I/O) is a problem of this host.
      outcome.decodeError = new BackupError(
        (streamError as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'BACKUP_FILE_MISSING'
          : 'BACKUP_FILE_UNREADABLE',
        `could not read ${entry.filePath}: ${(streamError as Error).message}`,
        { cause: streamError },
      );
    }
  }
  if (!outcome.decodeError && decompressed.status === 'rejected') {
    const error = decompressed.reason as BackupError;
    const signal = error.details?.signal;
    // A decompressor killed by SIGPIPE only tells that the consumer stopped reading.
    if (
      !(
        signal === 'SIGPIPE' ||
        (stoppedEarly && /Broken pipe|write error|Connection reset|EPIPE/i.test(error.message))
      )
    ) {
      outcome.decodeError = new BackupError(
        'COMPRESSED_STREAM_CORRUPT',
        `the ${manifest.compression} stream is corrupt: ${error.message}`,
        {
          cause: error,
        },
      );
    } else outcome.readToEnd = false;
  }
  if (consumerFailed) outcome.consumerError = consumerFailed;
  return outcome;
}
