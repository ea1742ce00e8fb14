import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandInput,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { BackupError } from '../errors.js';

/** Read buffer of one part's stream: what a part in flight holds in memory, whatever its size. */
const READ_CHUNK_BYTES = 256 * 1024;
const ATTEMPTS = 3;
const RETRY_DELAY_MS = 250;

export type ObjectParams = Pick<
  CreateMultipartUploadCommandInput,
  'ContentType' | 'Metadata' | 'StorageClass' | 'ServerSideEncryption' | 'SSEKMSKeyId'
>;

export interface FileUploadInput {
  client: S3Client;
  bucket: string;
  key: string;
  file: string;
  /** The size the manifest records: the file must have it, or nothing is uploaded. */
  sizeBytes: number;
  /**
   * The SHA-256 the manifest records: the bytes sent must have it, or the upload is aborted
   * before it completes (CHECKSUM_MISMATCH: the file changed since it was verified).
   */
  sha256: string;
  partSize: number;
  /** Parts in flight at once. */
  concurrency: number;
  /** The destination's checksum mode (see below). */
  checksums: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  params: ObjectParams;
  signal?: AbortSignal;
  /** After each finished part: the bytes uploaded so far. */
  onPart?: (part: number, loadedBytes: number) => void;
  /** An SDK error as a BackupError naming the destination (never the secret). */
  classify: (error: unknown, action: string) => BackupError;
}

/**
 * Uploads a finished local file, reading each part straight from its byte range: a part in flight
 * holds one read buffer (256 KiB), not the part, so memory does not grow with the part size or the
 * concurrency (lib-storage's `Upload` cut the file stream into part-sized Buffers, up to queueSize
 * of them plus the chunks they were assembled from).
 *
 * Each part is read twice: once for its digest, which goes in a header the server checks (CRC32
 * under WHEN_SUPPORTED, as lib-storage sent it; Content-MD5 under WHEN_REQUIRED, where the Buffer
 * parts used to be covered by the signed SHA-256 of the payload, which a streamed body is not),
 * then streamed. The SDK does not retry a streamed body, so each part is retried here (3 attempts,
 * on retryable failures only), re-reading its range. A file of one part goes as one PutObject.
 * On any failure the multipart upload is aborted (best effort: the sweep and the bucket's
 * lifecycle rule are the backstop) and the first failure is thrown: nothing becomes visible.
 *
 * The digest passes also compute the SHA-256 of the whole file, in part order (they take turns;
 * each is a read from the page cache, quick beside sending the part), and the object is
 * completed only when it is the manifest's: the bytes the server checked part by part are the
 * verified backup's, not a file damaged since its verification. A retried part must read the
 * same bytes as its first attempt did, or the upload fails the same way.
 */
export async function uploadFile(input: FileUploadInput): Promise<{ parts: number }> {
  let size: number;
  try {
    ({ size } = await fs.stat(input.file));
  } catch (error) {
    throw new BackupError(
      'BACKUP_FILE_UNREADABLE',
      `cannot read ${input.file}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (size !== input.sizeBytes) {
    throw new BackupError(
      'SIZE_MISMATCH',
      `${input.file} has ${size} bytes, its manifest says ${input.sizeBytes}: not uploaded`,
    );
  }
  const parts = Math.max(1, Math.ceil(size / input.partSize));
  if (parts === 1) {
    await withRetries(input, `upload ${input.key}`, async (signal) => {
      const whole = createHash('sha256');
      const digest = await digestHeaders(input.file, 0, size, input.checksums, whole);
      expectSha256(input, whole.digest('hex'));
      await sendRange(input.file, 0, size, (body) =>
        input.client.send(
          new PutObjectCommand({
            Bucket: input.bucket,
            Key: input.key,
            Body: body,
            ContentLength: size,
            ...input.params,
            ...digest,
          }),
          { abortSignal: signal },
        ),
      );
    });
    input.onPart?.(1, size);
    return { parts };
  }
  await uploadParts(input, parts);
  return { parts };
}

async function uploadParts(input: FileUploadInput, parts: number): Promise<void> {
  const { client, bucket, key } = input;
  let uploadId: string;
  try {
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ...input.params,
        // As lib-storage: under WHEN_SUPPORTED every part carries a CRC32.
        ...(input.checksums === 'WHEN_SUPPORTED' ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
      }),
      input.signal ? { abortSignal: input.signal } : {},
    );
    if (!created.UploadId) throw new Error('CreateMultipartUpload answered without an UploadId');
    uploadId = created.UploadId;
  } catch (error) {
    throw failure(input, error, `start the upload of ${key}`);
  }

  // One failure stops the others: their requests are cancelled, no new part starts.
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort(input.signal?.reason);
  input.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (input.signal?.aborted) onOuterAbort();
  const completed: CompletedPart[] = [];
  const wholeFile = new WholeFileHash(input);
  let next = 1;
  let loaded = 0;
  let firstError: unknown;
  const worker = async () => {
    while (!stop.signal.aborted && next <= parts) {
      const partNumber = next++;
      const start = (partNumber - 1) * input.partSize;
      const length = Math.min(input.partSize, input.sizeBytes - start);
      try {
        const answer = await withRetries(
          input,
          `upload part ${partNumber} of ${key}`,
          async (signal) => {
            const digest = await wholeFile.digestOf(partNumber, start, length);
            return sendRange(input.file, start, length, (body) =>
              client.send(
                new UploadPartCommand({
                  Bucket: bucket,
                  Key: key,
                  UploadId: uploadId,
                  PartNumber: partNumber,
                  Body: body,
                  ContentLength: length,
                  ...digest,
                }),
                { abortSignal: signal },
              ),
            );
          },
          stop.signal,
        );
        if (!answer.ETag) throw new Error(`UploadPart ${partNumber} answered without an ETag`);
        completed.push({
          PartNumber: partNumber,
          ETag: answer.ETag,
          ...(answer.ChecksumCRC32 ? { ChecksumCRC32: answer.ChecksumCRC32 } : {}),
        });
        loaded += length;
        input.onPart?.(partNumber, loaded);
      } catch (error) {
        firstError ??= error;
        stop.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(input.concurrency, parts) }, worker));
    if (firstError === undefined && input.signal?.aborted) firstError = input.signal.reason;
    if (firstError === undefined) {
      try {
        expectSha256(input, await wholeFile.digest());
      } catch (error) {
        firstError = error;
      }
    }
    if (firstError === undefined) {
      completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
      try {
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: completed },
          }),
        );
        return;
      } catch (error) {
        firstError = failure(input, error, `complete the upload of ${key}`);
      }
    }
  } finally {
    input.signal?.removeEventListener('abort', onOuterAbort);
  }
  // Not tied to the job's signal: an aborted job must still abort its upload.
  await client
    .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
    .catch(() => undefined);
  throw failure(input, firstError, `upload ${key}`);
}

type DigestHeaders = { ChecksumAlgorithm: 'CRC32'; ChecksumCRC32: string } | { ContentMD5: string };

/**
 * The SHA-256 of the whole file from the parts' digest passes, taken in part order: each first
 * pass waits for the one before it (parts are claimed in order). A retry reads its range again
 * and must find the digest its first pass found. A first pass that failed (a read error, which a
 * retry may get past) leaves the hash with a gap: the parts still go, without feeding it, and the
 * upload then fails with that read error instead of completing (retried as a whole by the job).
 */
class WholeFileHash {
  private readonly hash = createHash('sha256');
  private turn: Promise<unknown> = Promise.resolve();
  private readonly first = new Map<number, string>();
  private gap: unknown;

  constructor(private readonly input: FileUploadInput) {}

  digestOf(part: number, start: number, length: number): Promise<DigestHeaders> {
    const { file, checksums } = this.input;
    const seen = this.first.get(part);
    if (seen !== undefined || this.gap !== undefined) {
      return digestHeaders(file, start, length, checksums).then((digest) => {
        if (seen !== undefined && JSON.stringify(digest) !== seen)
          throw changedFile(this.input, `part ${part} changed between two reads`);
        return digest;
      });
    }
    const digest = this.turn.then(() => digestHeaders(file, start, length, checksums, this.hash));
    // Registered first: the gap is known before the part's own attempt sees its failure.
    this.turn = digest.catch((error: unknown) => {
      this.gap ??= error;
    });
    return digest.then((headers) => {
      this.first.set(part, JSON.stringify(headers));
      return headers;
    });
  }

  /** The whole file's SHA-256, or the read error that left it incomplete. */
  async digest(): Promise<string> {
    await this.turn;
    if (this.gap !== undefined) throw this.gap;
    return this.hash.digest('hex');
  }
}

function changedFile(input: FileUploadInput, detail: string): BackupError {
  return new BackupError(
    'CHECKSUM_MISMATCH',
    `${input.file} changed since it was verified (${detail}): not uploaded; verify the backup again before copying it`,
  );
}

function expectSha256(input: FileUploadInput, sha256: string): void {
  if (sha256 !== input.sha256)
    throw changedFile(input, `its SHA-256 is ${sha256}, its manifest records ${input.sha256}`);
}

/** The checksum header of one range, as the destination's checksum mode asks; feeds `whole`. */
async function digestHeaders(
  file: string,
  start: number,
  length: number,
  mode: FileUploadInput['checksums'],
  whole?: ReturnType<typeof createHash>,
): Promise<DigestHeaders> {
  let crc = 0;
  const md5 = mode === 'WHEN_REQUIRED' ? createHash('md5') : undefined;
  try {
    if (length > 0) {
      for await (const chunk of rangeStream(file, start, length) as AsyncIterable<Buffer>) {
        whole?.update(chunk);
        if (md5) md5.update(chunk);
        else crc = crc32(chunk, crc);
      }
    }
  } catch (error) {
    // The local file, not the destination: never reported as an S3 failure.
    throw new BackupError(
      'BACKUP_FILE_UNREADABLE',
      `cannot read the backup file: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (md5) return { ContentMD5: md5.digest('base64') };
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(crc >>> 0);
  return { ChecksumAlgorithm: 'CRC32', ChecksumCRC32: bytes.toString('base64') };
}

/**
 * One range as a stream with its own descriptor, closed when the stream ends or is destroyed
 * (streams of one FileHandle would each leave a listener and a reference on it).
 */
function rangeStream(file: string, start: number, length: number): Readable {
  return createReadStream(file, { start, end: start + length - 1, highWaterMark: READ_CHUNK_BYTES });
}

/** Sends a range as a stream (an empty buffer for an empty file) and always releases it. */
async function sendRange<T>(
  file: string,
  start: number,
  length: number,
  send: (body: Readable | Buffer) => Promise<T>,
): Promise<T> {
  if (length === 0) return send(Buffer.alloc(0));
  const body = rangeStream(file, start, length);
  try {
    return await send(body);
  } finally {
    body.destroy();
  }
}

/**
 * Runs one request up to 3 times while its failure is retryable (endpoint unreachable, 5xx, 429),
 * waiting 250 ms, then 1 s. `stop` (the job's signal, or a failed sibling part) cancels the
 * request in flight and any wait; a sibling's failure is rethrown as it is, the job's abort as
 * ABORTED.
 */
async function withRetries<T>(
  input: FileUploadInput,
  action: string,
  attempt: (signal: AbortSignal | undefined) => Promise<T>,
  stop: AbortSignal | undefined = input.signal,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      if (stop?.aborted) throw stop.reason;
      return await attempt(stop);
    } catch (error) {
      if (stop?.aborted && !input.signal?.aborted) throw stop.reason;
      const classified = failure(input, error, action);
      if (stop?.aborted || !classified.retryable || n >= ATTEMPTS) throw classified;
    }
    // Resolves early when aborted: the next attempt then throws at once.
    await sleep(RETRY_DELAY_MS * 4 ** (n - 1), undefined, stop ? { signal: stop } : {}).catch(
      () => undefined,
    );
  }
}

function failure(input: FileUploadInput, error: unknown, action: string): BackupError {
  if (error instanceof BackupError) return error;
  if (input.signal?.aborted)
    return new BackupError('ABORTED', `${action} aborted: ${String(input.signal.reason)}`);
  return input.classify(error, action);
}
