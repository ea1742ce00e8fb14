import { Transform, type TransformCallback } from 'node:stream';
import { BackupError } from '../errors.js';
import { ByteQueue, splitTag } from './byte-queue.js';
import { type ChunkContext, openChunk } from './chunk-cipher.js';
import { ENCRYPTION_HEADER_LENGTH, MAX_CHUNK_COUNTER, parseHeader, TAG_LENGTH } from './format.js';
import { unwrapDataKey } from './key-wrap.js';
import type { OperatorKey } from './operator-key.js';

export interface DecryptStreamOptions {
  /** Every key that may have wrapped the file's data key; the header's key id picks one. */
  keyring: readonly OperatorKey[];
}

/**
 * Decrypts the chunked format. Plaintext of a chunk is pushed only after its tag verified, and the
 * stream fails (DECRYPT_TRUNCATED) unless it ends with the chunk flagged final, so a consumer that sees
 * the stream finish without error has received exactly the bytes that were encrypted.
 */
export function createDecryptStream(options: DecryptStreamOptions): Transform {
  return new DecryptStream(options.keyring);
}

class DecryptStream extends Transform {
  readonly #keyring: readonly OperatorKey[];
  readonly #pending = new ByteQueue();
  #context: ChunkContext | undefined;
  /** Ciphertext bytes of a full chunk, tag included. */
  #sealedChunkSize = 0;
  #counter = 0;

  constructor(keyring: readonly OperatorKey[]) {
    super();
    this.#keyring = keyring;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#pending.push(chunk);
    try {
      if (this.#context === undefined) {
        if (this.#pending.length < ENCRYPTION_HEADER_LENGTH) {
          callback();
          return;
        }
        this.#readHeader();
      }
      // A chunk is known not to be the last only once at least one byte follows it, so one full
      // chunk stays buffered until more input or the end arrives.
      while (this.#pending.length > this.#sealedChunkSize) {
        this.#openNonFinal(this.#pending.take(this.#sealedChunkSize));
      }
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.#context === undefined) {
        // Fewer bytes than a header (an empty file included): parsing them reports it.
        this.#readHeader();
      }
      this.#openFinal(this.#pending.take(this.#pending.length));
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  #readHeader(): void {
    const header = parseHeader(Buffer.concat(this.#pending.take(ENCRYPTION_HEADER_LENGTH)));
    const dataKey = unwrapDataKey(header.wrapped, this.#keyring, header.immutable);
    this.#context = { dataKey, noncePrefix: header.noncePrefix, aad: header.immutable };
    this.#sealedChunkSize = header.chunkSize + TAG_LENGTH;
  }

  #openNonFinal(sealed: Buffer[]): void {
    if (this.#counter >= MAX_CHUNK_COUNTER) {
      throw this.#tampered('the file has more chunks than the format allows');
    }
    const { body, tag } = splitTag(sealed, TAG_LENGTH);
    const plaintext = openChunk(this.#context!, this.#counter, false, body, tag);
    if (plaintext === undefined) {
      throw this.#tampered(`chunk ${this.#counter} does not authenticate`);
    }
    this.#counter++;
    this.#pushAll(plaintext);
  }

  /**
   * What is left at the end must be the final chunk. When it is not, the cause is told apart as far
   * as the cryptography allows: a full chunk that authenticates as non-final means the file stops at
   * a chunk boundary; fewer bytes than a tag means it stops mid-chunk. A shorter-than-full remainder
   * that does not authenticate is reported as truncated too: a cut inside a chunk and a modified last
   * chunk look the same, and a cut (interrupted write or copy) is by far the likelier cause.
   */
  #openFinal(sealed: Buffer[]): void {
    const length = sealed.reduce((sum, piece) => sum + piece.length, 0);
    if (length < TAG_LENGTH) {
      throw this.#truncated(`it ends ${length} bytes into chunk ${this.#counter}, before any final chunk`);
    }
    const { body, tag } = splitTag(sealed, TAG_LENGTH);
    const plaintext = openChunk(this.#context!, this.#counter, true, body, tag);
    if (plaintext !== undefined) {
      this.#pushAll(plaintext);
      return;
    }
    if (length < this.#sealedChunkSize) {
      throw this.#truncated(
        `its last ${length} bytes (chunk ${this.#counter}) do not authenticate as the final chunk: the file was cut short, or its last chunk was modified`,
      );
    }
    if (this.#counter < MAX_CHUNK_COUNTER && openChunk(this.#context!, this.#counter, false, body, tag)) {
      throw this.#truncated(`it ends after chunk ${this.#counter}, which is not the final chunk`);
    }
    throw this.#tampered(`chunk ${this.#counter} does not authenticate`);
  }

  #pushAll(pieces: Buffer[]): void {
    for (const piece of pieces) {
      if (piece.length > 0) {
        this.push(piece);
      }
    }
  }

  #truncated(reason: string): BackupError {
    return new BackupError('DECRYPT_TRUNCATED', `The encrypted backup is incomplete: ${reason}.`, {
      details: { chunk: this.#counter },
    });
  }

  #tampered(reason: string): BackupError {
    return new BackupError(
      'DECRYPT_TAMPERED',
      `The encrypted backup was modified: ${reason} (a changed byte, or chunks reordered, duplicated or appended).`,
      { details: { chunk: this.#counter } },
    );
  }
}
