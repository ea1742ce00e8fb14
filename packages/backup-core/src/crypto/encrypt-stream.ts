import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BackupError } from '../errors.js';
import { ByteQueue } from './byte-queue.js';
import { type ChunkContext, sealChunk } from './chunk-cipher.js';
import {
  DATA_KEY_LENGTH,
  DEFAULT_CHUNK_SIZE,
  encodeImmutable,
  encodeRewrappable,
  MAX_CHUNK_COUNTER,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  NONCE_PREFIX_LENGTH,
} from './format.js';
import { wrapDataKey } from './key-wrap.js';
import type { OperatorKey } from './operator-key.js';

export interface EncryptStreamOptions {
  /** The operator key that wraps this backup's random data key. */
  key: OperatorKey;
  /** Plaintext bytes per chunk, 64 KiB..16 MiB. Default: 1 MiB. */
  chunkSize?: number;
}

/** Encrypts a byte stream into the chunked format: header, then sealed chunks, the last one flagged. */
export function createEncryptStream(options: EncryptStreamOptions): Transform {
  return new EncryptStream(options);
}

class EncryptStream extends Transform {
  readonly #chunkSize: number;
  readonly #context: ChunkContext;
  readonly #pending = new ByteQueue();
  #counter = 0;

  constructor(options: EncryptStreamOptions) {
    super();
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw new BackupError(
        'CONFIG_INVALID',
        `Encryption chunk size must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE} bytes; got ${chunkSize}.`,
      );
    }
    this.#chunkSize = chunkSize;
    const noncePrefix = randomBytes(NONCE_PREFIX_LENGTH);
    const immutable = encodeImmutable(chunkSize, noncePrefix);
    const dataKey = randomBytes(DATA_KEY_LENGTH);
    this.#context = { dataKey, noncePrefix, aad: immutable };
    this.push(Buffer.concat([immutable, encodeRewrappable(wrapDataKey(dataKey, options.key, immutable))]));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#pending.push(chunk);
    try {
      // Strictly more than a chunk: only then is it certain that the chunk is not the last one.
      while (this.#pending.length > this.#chunkSize) {
        this.#seal(false, this.#pending.take(this.#chunkSize));
      }
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    try {
      // Always present, even empty: its flag is what proves to the reader that nothing was cut off.
      this.#seal(true, this.#pending.take(this.#pending.length));
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  #seal(last: boolean, plaintext: Buffer[]): void {
    if (this.#counter > MAX_CHUNK_COUNTER) {
      throw new BackupError(
        'WRITE_FAILED',
        `The input is too large to encrypt with ${this.#chunkSize}-byte chunks (more than 2^32 chunks).`,
      );
    }
    for (const piece of sealChunk(this.#context, this.#counter, last, plaintext)) {
      if (piece.length > 0) {
        this.push(piece);
      }
    }
    this.#counter++;
  }
}
