import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { isBackupError } from '../errors.js';
import {
  createDecryptStream,
  createEncryptStream,
  ENCRYPTION_HEADER_LENGTH,
  operatorKeyFromBytes,
} from './index.js';

const chunkSize = 64 * 1024;
const sealed = chunkSize + 16;
const header = ENCRYPTION_HEADER_LENGTH;
const key = operatorKeyFromBytes(randomBytes(32));

function* pieces(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) {
    yield bytes.subarray(at, at + size);
  }
}

describe('no plaintext before authentication', () => {
  it.each([
    ['in one piece', Number.MAX_SAFE_INTEGER],
    ['in 4 KiB pieces', 4096],
    ['byte by byte around the damage', 1],
  ])('emits exactly chunk 0 and nothing of a corrupted chunk 1, fed %s', async (_label, pieceSize) => {
    const plaintext = randomBytes(3 * chunkSize + 500);
    const encrypted = await buffer(Readable.from([plaintext]).pipe(createEncryptStream({ key, chunkSize })));
    const damaged = Buffer.from(encrypted);
    damaged[header + sealed + 100]! ^= 0x04;

    // Byte-by-byte feeding of a whole file is slow; only the part from the damaged chunk on goes 1 byte at a time.
    const input =
      pieceSize === 1
        ? [damaged.subarray(0, header + sealed), ...pieces(damaged.subarray(header + sealed), 1)]
        : [...pieces(damaged, pieceSize)];
    const emitted: Buffer[] = [];
    const sink = new Writable({
      write(piece: Buffer, _encoding, callback) {
        emitted.push(piece);
        callback();
      },
    });
    const error = await pipeline(Readable.from(input), createDecryptStream({ keyring: [key] }), sink).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isBackupError(error, 'DECRYPT_TAMPERED')).toBe(true);
    expect(Buffer.concat(emitted).equals(plaintext.subarray(0, chunkSize))).toBe(true);
  });

  it('emits nothing of a file whose only chunk is cut', async () => {
    const encrypted = await buffer(
      Readable.from([randomBytes(5000)]).pipe(createEncryptStream({ key, chunkSize })),
    );
    const emitted: Buffer[] = [];
    const decrypt = createDecryptStream({ keyring: [key] });
    decrypt.on('data', (piece: Buffer) => emitted.push(piece));
    const error = await new Promise((resolve) => {
      decrypt.on('error', resolve);
      decrypt.end(encrypted.subarray(0, encrypted.length - 1));
    });
    expect(isBackupError(error, 'DECRYPT_TRUNCATED')).toBe(true);
    expect(emitted).toEqual([]);
  });
});

/**
 * A source that makes up data on demand and counts what was pulled, feeding a consumer that never
 * reads: how far the source gets is how much the stream under test buffers.
 */
async function bytesPulledWhileStalled(
  transform: NodeJS.ReadWriteStream,
  source: () => Buffer,
): Promise<number> {
  let pulled = 0;
  const input = new Readable({
    read() {
      const piece = source();
      pulled += piece.length;
      this.push(piece);
    },
  });
  const stalled = new Writable({ highWaterMark: 1, write: () => undefined });
  input.pipe(transform).pipe(stalled);
  await new Promise((resolve) => setTimeout(resolve, 300));
  input.destroy();
  return pulled;
}

describe('bounded memory', () => {
  it('encrypting stops pulling input while its output is not consumed', async () => {
    const pulled = await bytesPulledWhileStalled(createEncryptStream({ key, chunkSize }), () =>
      randomBytes(16 * 1024),
    );
    expect(pulled).toBeGreaterThan(chunkSize);
    expect(pulled).toBeLessThan(4 * chunkSize);
  });

  it('decrypting stops pulling input while its output is not consumed', async () => {
    // An endless valid file: the chunks of a long encryption, replayed as they come.
    const encrypt = createEncryptStream({ key, chunkSize });
    const plain = randomBytes(64 * chunkSize);
    const ciphertext = await buffer(Readable.from([plain]).pipe(encrypt));
    let offset = 0;
    const next = () => {
      const piece = ciphertext.subarray(offset, offset + 16 * 1024);
      offset += piece.length;
      return piece;
    };
    const pulled = await bytesPulledWhileStalled(createDecryptStream({ keyring: [key] }), next);
    expect(pulled).toBeGreaterThan(sealed);
    expect(pulled).toBeLessThan(4 * sealed);
  });
});
