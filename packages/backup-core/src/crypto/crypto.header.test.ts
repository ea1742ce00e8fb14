import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import {
  createEncryptStream,
  ENCRYPTION_HEADER_LENGTH,
  type OperatorKey,
  operatorKeyFromBytes,
  readEncryptionHeader,
} from './index.js';

const key = operatorKeyFromBytes(randomBytes(32));

async function encrypt(plaintext: Buffer, chunkSize?: number): Promise<Buffer> {
  return buffer(Readable.from([plaintext]).pipe(createEncryptStream({ key, chunkSize })));
}

describe('readEncryptionHeader', () => {
  it('reads version, chunk size and key id from the first bytes of a file', async () => {
    const encrypted = await encrypt(randomBytes(5000), 128 * 1024);
    expect(readEncryptionHeader(encrypted.subarray(0, ENCRYPTION_HEADER_LENGTH))).toEqual({
      version: 1,
      chunkSize: 128 * 1024,
      keyId: key.id,
      headerLength: 97,
    });
    expect(readEncryptionHeader(encrypted).keyId).toBe(key.id);
  });

  it.each([
    ['an empty buffer', Buffer.alloc(0)],
    ['one byte short of a header', Buffer.alloc(ENCRYPTION_HEADER_LENGTH - 1)],
    ['a plain pg_dump archive', Buffer.concat([Buffer.from('PGDMP'), randomBytes(200)])],
    ['random bytes', randomBytes(4096)],
  ])('refuses %s with DECRYPT_BAD_HEADER', (_label, bytes) => {
    expect(() => readEncryptionHeader(bytes)).toThrow(
      expect.objectContaining({ code: 'DECRYPT_BAD_HEADER' }),
    );
  });

  it.each([
    ['version 2', 8, 2],
    ['algorithm 2', 9, 2],
  ])('refuses %s with DECRYPT_BAD_HEADER', async (_label, offset, value) => {
    const encrypted = await encrypt(Buffer.alloc(10));
    encrypted[offset] = value;
    expect(() => readEncryptionHeader(encrypted)).toThrow(
      expect.objectContaining({ code: 'DECRYPT_BAD_HEADER' }),
    );
  });

  it.each([
    ['32 KiB', 32 * 1024],
    ['32 MiB', 32 * 1024 * 1024],
  ])('refuses a chunk size of %s with DECRYPT_BAD_HEADER', async (_label, size) => {
    const encrypted = await encrypt(Buffer.alloc(10));
    encrypted.writeUInt32BE(size, 10);
    expect(() => readEncryptionHeader(encrypted)).toThrow(
      expect.objectContaining({ code: 'DECRYPT_BAD_HEADER' }),
    );
  });
});

describe('createEncryptStream', () => {
  it('refuses a hand-built key whose id is not derived from its bytes (ENCRYPTION_KEY_INVALID)', () => {
    const mislabelled: OperatorKey = { id: '0123456789abcdef', key: randomBytes(32) };
    expect(() => createEncryptStream({ key: mislabelled })).toThrow(
      expect.objectContaining({ code: 'ENCRYPTION_KEY_INVALID' }),
    );
    const short: OperatorKey = { id: key.id, key: key.key.subarray(0, 16) };
    expect(() => createEncryptStream({ key: short })).toThrow(
      expect.objectContaining({ code: 'ENCRYPTION_KEY_INVALID' }),
    );
  });
});
