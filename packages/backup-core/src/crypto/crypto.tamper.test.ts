import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { BackupError } from '../errors.js';
import {
  createDecryptStream,
  createEncryptStream,
  ENCRYPTION_HEADER_LENGTH,
  type OperatorKey,
  operatorKeyFromBytes,
} from './index.js';

const chunkSize = 64 * 1024;
const sealed = chunkSize + 16;
const header = ENCRYPTION_HEADER_LENGTH;
const oldKey = operatorKeyFromBytes(randomBytes(32));
const newKey = operatorKeyFromBytes(randomBytes(32));

/** Header offsets, from the format: immutable 0..21, key id 21..37, wrap IV, wrapped key, wrap tag. */
const at = {
  magic: 3,
  version: 8,
  algorithm: 9,
  chunkSize: 10,
  noncePrefix: 17,
  keyId: 21,
  wrapIv: 40,
  wrappedKey: 60,
  wrapTag: 90,
};

async function encrypt(plaintext: Buffer, key: OperatorKey = oldKey): Promise<Buffer> {
  return buffer(Readable.from([plaintext]).pipe(createEncryptStream({ key, chunkSize })));
}

async function decrypt(encrypted: Buffer, keyring: readonly OperatorKey[] = [oldKey]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([encrypted]), createDecryptStream({ keyring }), async (source) => {
    for await (const piece of source) out.push(piece);
  });
  return Buffer.concat(out);
}

async function decryptError(
  encrypted: Buffer,
  keyring: readonly OperatorKey[] = [oldKey],
): Promise<BackupError> {
  const error = await decrypt(encrypted, keyring).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BackupError);
  return error as BackupError;
}

function flipBit(bytes: Buffer, offset: number, mask = 0x01): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset]! ^= mask;
  return copy;
}

/** Three chunks: two full, one final of 1000 bytes. */
const plaintext = randomBytes(2 * chunkSize + 1000);
const file = await encrypt(plaintext);
const chunk = (index: number) => file.subarray(header + index * sealed, header + (index + 1) * sealed);

describe('a modified header', () => {
  it.each([
    ['magic', at.magic],
    ['version', at.version],
    ['algorithm', at.algorithm],
  ])('is DECRYPT_BAD_HEADER when a bit of the %s flips', async (_label, offset) => {
    expect((await decryptError(flipBit(file, offset))).code).toBe('DECRYPT_BAD_HEADER');
  });

  it('is DECRYPT_BAD_HEADER when the chunk size leaves 64 KiB..16 MiB', async () => {
    // 0x00010000 -> 0x01010000 (16.06 MiB)
    expect((await decryptError(flipBit(file, at.chunkSize, 0x01))).code).toBe('DECRYPT_BAD_HEADER');
  });

  it('is DECRYPT_TAMPERED when the chunk size changes to another allowed value', async () => {
    // 0x00010000 -> 0x00010100: still in range, but the header no longer authenticates.
    expect((await decryptError(flipBit(file, at.chunkSize + 2, 0x01))).code).toBe('DECRYPT_TAMPERED');
  });

  it('is DECRYPT_TAMPERED when a bit of the nonce prefix flips', async () => {
    expect((await decryptError(flipBit(file, at.noncePrefix))).code).toBe('DECRYPT_TAMPERED');
  });

  it.each([
    ['wrap IV', at.wrapIv],
    ['wrapped data key', at.wrappedKey],
    ['wrap tag', at.wrapTag],
  ])(
    'is DECRYPT_TAMPERED when a bit of the %s flips (the key named by the id is right)',
    async (_l, offset) => {
      expect((await decryptError(flipBit(file, offset))).code).toBe('DECRYPT_TAMPERED');
    },
  );

  it('is DECRYPT_WRONG_KEY when the key id changes to another hex id (no such key held)', async () => {
    const modified = Buffer.from(file);
    modified.write(modified[at.keyId] === 0x30 ? '1' : '0', at.keyId, 'ascii');
    const error = await decryptError(modified);
    expect(error.code).toBe('DECRYPT_WRONG_KEY');
  });

  it('is DECRYPT_BAD_HEADER when the key id is no longer hexadecimal', async () => {
    const modified = Buffer.from(file);
    modified.write('z', at.keyId, 'ascii');
    expect((await decryptError(modified)).code).toBe('DECRYPT_BAD_HEADER');
  });
});

describe('a modified body', () => {
  it.each([
    ['the first byte of chunk 0', header],
    ['the middle of chunk 1', header + sealed + 30_000],
    ['the tag of chunk 0', header + sealed - 1],
    ['the tag of chunk 1', header + 2 * sealed - 16],
  ])('is DECRYPT_TAMPERED when a bit flips in %s', async (_label, offset) => {
    expect((await decryptError(flipBit(file, offset, 0x80))).code).toBe('DECRYPT_TAMPERED');
  });

  it('is DECRYPT_TAMPERED when a bit flips in a full-size final chunk', async () => {
    const exact = await encrypt(randomBytes(2 * chunkSize));
    expect((await decryptError(flipBit(exact, header + sealed + 5))).code).toBe('DECRYPT_TAMPERED');
    expect((await decryptError(flipBit(exact, exact.length - 1))).code).toBe('DECRYPT_TAMPERED');
  });

  // A cut inside the last chunk and a modified short last chunk are the same to the cryptography:
  // both are bytes that do not authenticate as the final chunk. The stream names the likelier cause.
  it('is DECRYPT_TRUNCATED (indistinguishable from a cut) when a bit flips in a short final chunk', async () => {
    expect((await decryptError(flipBit(file, header + 2 * sealed + 10))).code).toBe('DECRYPT_TRUNCATED');
    expect((await decryptError(flipBit(file, file.length - 1))).code).toBe('DECRYPT_TRUNCATED');
  });

  it('is DECRYPT_TAMPERED when two chunks are swapped', async () => {
    const swapped = Buffer.concat([
      file.subarray(0, header),
      chunk(1),
      chunk(0),
      file.subarray(header + 2 * sealed),
    ]);
    expect(swapped.length).toBe(file.length);
    expect((await decryptError(swapped)).code).toBe('DECRYPT_TAMPERED');
  });

  it('is DECRYPT_TAMPERED when a chunk is duplicated', async () => {
    const duplicated = Buffer.concat([
      file.subarray(0, header + sealed),
      chunk(0),
      file.subarray(header + sealed),
    ]);
    expect((await decryptError(duplicated)).code).toBe('DECRYPT_TAMPERED');
  });

  it('is DECRYPT_TAMPERED when a chunk is removed and a full chunk takes its place', async () => {
    const removed = Buffer.concat([file.subarray(0, header), file.subarray(header + sealed)]);
    expect((await decryptError(removed)).code).toBe('DECRYPT_TAMPERED');
  });

  // Only the short final chunk then follows: like a cut, the last bytes just fail to authenticate.
  it('is DECRYPT_TRUNCATED when the chunk right before a short final chunk is removed', async () => {
    const removed = Buffer.concat([file.subarray(0, header + sealed), file.subarray(header + 2 * sealed)]);
    expect((await decryptError(removed)).code).toBe('DECRYPT_TRUNCATED');
  });

  it('is DECRYPT_TAMPERED when a full chunk is appended after the final one', async () => {
    const exact = await encrypt(randomBytes(2 * chunkSize));
    const appended = Buffer.concat([exact, exact.subarray(header, header + sealed)]);
    expect((await decryptError(appended)).code).toBe('DECRYPT_TAMPERED');
  });

  it('is DECRYPT_TAMPERED when a chunk of another file under the same operator key is spliced in', async () => {
    const other = await encrypt(randomBytes(2 * chunkSize + 1000));
    const spliced = Buffer.concat([
      file.subarray(0, header + sealed),
      other.subarray(header + sealed, header + 2 * sealed),
      file.subarray(header + 2 * sealed),
    ]);
    expect((await decryptError(spliced)).code).toBe('DECRYPT_TAMPERED');
  });
});

describe('keys', () => {
  it('is DECRYPT_WRONG_KEY naming the file key id and the held ids, never key bytes', async () => {
    const error = await decryptError(file, [newKey]);
    expect(error.code).toBe('DECRYPT_WRONG_KEY');
    expect(error.message).toContain(oldKey.id);
    expect(error.message).toContain(newKey.id);
    for (const secret of [oldKey.key, newKey.key]) {
      expect(error.message).not.toContain(secret.toString('hex'));
      expect(error.message).not.toContain(secret.toString('base64'));
    }
  });

  it('is DECRYPT_WRONG_KEY with an empty keyring', async () => {
    expect((await decryptError(file, [])).code).toBe('DECRYPT_WRONG_KEY');
  });

  it('is DECRYPT_WRONG_KEY when a keyring entry carries the right id but other key bytes', async () => {
    const impostor: OperatorKey = { id: oldKey.id, key: newKey.key };
    expect((await decryptError(file, [impostor])).code).toBe('DECRYPT_WRONG_KEY');
  });

  it('decrypts files of the old and the new key with a keyring holding both', async () => {
    const newer = randomBytes(3 * chunkSize);
    const newFile = await encrypt(newer, newKey);
    const keyring = [newKey, oldKey];
    expect((await decrypt(file, keyring)).equals(plaintext)).toBe(true);
    expect((await decrypt(newFile, keyring)).equals(newer)).toBe(true);
  });
});
