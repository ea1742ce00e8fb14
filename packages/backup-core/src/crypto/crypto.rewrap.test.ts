import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupError } from '../errors.js';
import {
  createDecryptStream,
  createEncryptStream,
  ENCRYPTION_HEADER_LENGTH,
  type OperatorKey,
  operatorKeyFromBytes,
  readEncryptionHeader,
  rewrapFile,
} from './index.js';

const chunkSize = 64 * 1024;
const oldKey = operatorKeyFromBytes(randomBytes(32));
const newKey = operatorKeyFromBytes(randomBytes(32));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'crypto-rewrap-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function encryptedFile(name: string, plaintext: Buffer, key: OperatorKey): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(
    file,
    await buffer(Readable.from([plaintext]).pipe(createEncryptStream({ key, chunkSize }))),
  );
  return file;
}

function decryptFile(file: string, keyring: readonly OperatorKey[]): Promise<Buffer> {
  return buffer(createReadStream(file).pipe(createDecryptStream({ keyring })));
}

async function rejection(promise: Promise<unknown>): Promise<BackupError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BackupError);
  return error as BackupError;
}

describe('rewrapFile', () => {
  it('moves a file to the new key: the old key alone fails, the new key decrypts identical bytes', async () => {
    const plaintext = randomBytes(3 * chunkSize + 4321);
    const file = await encryptedFile('rotate', plaintext, oldKey);
    const before = await readFile(file);

    expect(await rewrapFile(file, [oldKey], newKey)).toEqual({ keyId: newKey.id });

    const after = await readFile(file);
    expect(after.length).toBe(before.length);
    expect(readEncryptionHeader(after).keyId).toBe(newKey.id);
    // Only the key id and the wrap changed: the immutable header and every chunk are byte for byte the same.
    expect(after.subarray(0, 21).equals(before.subarray(0, 21))).toBe(true);
    expect(after.subarray(ENCRYPTION_HEADER_LENGTH).equals(before.subarray(ENCRYPTION_HEADER_LENGTH))).toBe(
      true,
    );
    expect(
      after.subarray(21, ENCRYPTION_HEADER_LENGTH).equals(before.subarray(21, ENCRYPTION_HEADER_LENGTH)),
    ).toBe(false);

    expect((await rejection(decryptFile(file, [oldKey]))).code).toBe('DECRYPT_WRONG_KEY');
    expect((await decryptFile(file, [newKey])).equals(plaintext)).toBe(true);
    expect((await decryptFile(file, [oldKey, newKey])).equals(plaintext)).toBe(true);
  });

  it('rewraps an already rotated file again, picking the key from a keyring', async () => {
    const plaintext = randomBytes(1000);
    const file = await encryptedFile('twice', plaintext, oldKey);
    const third = operatorKeyFromBytes(randomBytes(32));
    await rewrapFile(file, [oldKey], newKey);
    expect(await rewrapFile(file, [oldKey, newKey], third)).toEqual({ keyId: third.id });
    expect((await decryptFile(file, [third])).equals(plaintext)).toBe(true);
  });

  it('leaves the file untouched with DECRYPT_WRONG_KEY when the keyring lacks its key', async () => {
    const file = await encryptedFile('foreign', randomBytes(1000), oldKey);
    const before = await readFile(file);
    expect((await rejection(rewrapFile(file, [newKey], newKey))).code).toBe('DECRYPT_WRONG_KEY');
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('refuses a file that is not encrypted with DECRYPT_BAD_HEADER', async () => {
    const file = path.join(dir, 'plain');
    await writeFile(file, 'PGDMP not encrypted at all');
    expect((await rejection(rewrapFile(file, [oldKey], newKey))).code).toBe('DECRYPT_BAD_HEADER');
    expect(await readFile(file, 'utf8')).toBe('PGDMP not encrypted at all');
  });

  it('reports a missing file as BACKUP_FILE_MISSING', async () => {
    const error = await rejection(rewrapFile(path.join(dir, 'nope'), [oldKey], newKey));
    expect(error.code).toBe('BACKUP_FILE_MISSING');
    expect(error.message).toContain(path.join(dir, 'nope'));
  });
});
