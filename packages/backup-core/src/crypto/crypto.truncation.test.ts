import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupError } from '../errors.js';
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
let dir: string;
/** Two full chunks and a final one of half a chunk. */
let encrypted: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'crypto-truncation-'));
  encrypted = await buffer(
    Readable.from([randomBytes(2.5 * chunkSize)]).pipe(createEncryptStream({ key, chunkSize })),
  );
  expect(encrypted.length).toBe(header + 2 * sealed + chunkSize / 2 + 16);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Cuts a real file with truncate(2), as a full disk or an interrupted copy would, then decrypts it. */
async function decryptCutFile(bytes: Buffer, length: number): Promise<unknown> {
  const file = path.join(dir, `cut-${length}`);
  await writeFile(file, bytes);
  await truncate(file, length);
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  return pipeline(createReadStream(file), createDecryptStream({ keyring: [key] }), sink).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('a truncated file', () => {
  it.each([
    ['empty', 0],
    ['cut inside the magic', 5],
    ['cut inside the wrapped key', 60],
    ['cut one byte before the end of the header', header - 1],
  ])('is DECRYPT_BAD_HEADER when %s', async (_label, length) => {
    const error = await decryptCutFile(encrypted, length);
    expect(error).toBeInstanceOf(BackupError);
    expect(error).toMatchObject({ code: 'DECRYPT_BAD_HEADER' });
  });

  it.each([
    ['cut right after the header', header],
    ['cut inside the first chunk, before a tag length', header + 10],
    ['cut in the middle of the first chunk', header + 1000],
    ['cut exactly at the first chunk boundary', header + sealed],
    ['cut exactly at the second chunk boundary', header + 2 * sealed],
    ['cut one byte after a chunk boundary', header + 2 * sealed + 1],
    ['cut in the middle of the final chunk', header + 2 * sealed + 5000],
    ['missing only the last tag byte', header + 2 * sealed + chunkSize / 2 + 15],
  ])('is DECRYPT_TRUNCATED when %s', async (_label, length) => {
    const error = await decryptCutFile(encrypted, length);
    expect(error).toBeInstanceOf(BackupError);
    expect(error).toMatchObject({ code: 'DECRYPT_TRUNCATED' });
  });

  it('is DECRYPT_TRUNCATED when an encrypted empty input loses its last byte', async () => {
    const empty = await buffer(Readable.from([]).pipe(createEncryptStream({ key, chunkSize })));
    expect(empty.length).toBe(header + 16);
    expect(await decryptCutFile(empty, empty.length - 1)).toMatchObject({ code: 'DECRYPT_TRUNCATED' });
  });

  it('is DECRYPT_TRUNCATED when a file of exactly two full chunks loses its final chunk', async () => {
    const exact = await buffer(
      Readable.from([randomBytes(2 * chunkSize)]).pipe(createEncryptStream({ key, chunkSize })),
    );
    expect(exact.length).toBe(header + 2 * sealed);
    expect(await decryptCutFile(exact, header + sealed)).toMatchObject({ code: 'DECRYPT_TRUNCATED' });
    expect(await decryptCutFile(exact, exact.length)).toBeUndefined();
  });

  it('decrypts when nothing is cut', async () => {
    expect(await decryptCutFile(encrypted, encrypted.length)).toBeUndefined();
  });
});
