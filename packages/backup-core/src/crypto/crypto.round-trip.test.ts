import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDecryptStream,
  createEncryptStream,
  ENCRYPTION_ALGORITHM,
  ENCRYPTION_HEADER_LENGTH,
  operatorKeyFromBytes,
  readEncryptionHeader,
} from './index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const key = operatorKeyFromBytes(randomBytes(32));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'crypto-round-trip-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** File to file through both streams, the way the engine uses them. */
async function roundTripThroughFiles(plaintext: Buffer, chunkSize?: number) {
  const name = path.join(dir, `${plaintext.length}-${chunkSize ?? 'default'}`);
  await writeFile(`${name}.plain`, plaintext);
  await pipeline(
    createReadStream(`${name}.plain`),
    createEncryptStream({ key, chunkSize }),
    createWriteStream(`${name}.enc`),
  );
  await pipeline(
    createReadStream(`${name}.enc`),
    createDecryptStream({ keyring: [key] }),
    createWriteStream(`${name}.out`),
  );
  return {
    encrypted: await readFile(`${name}.enc`),
    encryptedSize: (await stat(`${name}.enc`)).size,
    decrypted: await readFile(`${name}.out`),
  };
}

function expectedEncryptedSize(plainSize: number, chunkSize: number): number {
  const chunks = plainSize === 0 ? 1 : Math.ceil(plainSize / chunkSize);
  return ENCRYPTION_HEADER_LENGTH + plainSize + 16 * chunks;
}

const chunkSettings: { label: string; chunkSize: number | undefined; effective: number }[] = [
  { label: '64 KiB chunks', chunkSize: 64 * KiB, effective: 64 * KiB },
  { label: 'the default 1 MiB chunks', chunkSize: undefined, effective: MiB },
];

describe.each(chunkSettings)('round trip with $label', ({ chunkSize, effective }) => {
  it.each([0, 1, effective - 1, effective, effective + 1, 3 * effective, 5 * MiB + 12_345])(
    'restores %i bytes exactly',
    async (size) => {
      const plaintext = randomBytes(size);
      const { encrypted, encryptedSize, decrypted } = await roundTripThroughFiles(plaintext, chunkSize);
      expect(decrypted.equals(plaintext)).toBe(true);
      expect(encryptedSize).toBe(expectedEncryptedSize(size, effective));
      expect(readEncryptionHeader(encrypted)).toEqual({
        version: 1,
        chunkSize: effective,
        keyId: key.id,
        headerLength: ENCRYPTION_HEADER_LENGTH,
      });
    },
  );
});

describe('encrypted output', () => {
  it('differs between two encryptions of the same input (random data key and nonce)', async () => {
    const plaintext = randomBytes(200 * KiB);
    const encrypt = () =>
      buffer(Readable.from([plaintext]).pipe(createEncryptStream({ key, chunkSize: 64 * KiB })));
    const [first, second] = await Promise.all([encrypt(), encrypt()]);
    expect(first.length).toBe(second.length);
    expect(first.subarray(0, 14).equals(second.subarray(0, 14))).toBe(true); // magic, version, algorithm, chunk size
    expect(first.subarray(14, 21).equals(second.subarray(14, 21))).toBe(false); // nonce prefix
    expect(first.subarray(37, 97).equals(second.subarray(37, 97))).toBe(false); // wrap
    expect(first.subarray(97).equals(second.subarray(97))).toBe(false); // body
  });

  it('starts with the magic, version 1, algorithm 1 and the chunk size, and never contains the key', async () => {
    const encrypted = await buffer(Readable.from([Buffer.alloc(1000)]).pipe(createEncryptStream({ key })));
    expect(encrypted.subarray(0, 8).toString('ascii')).toBe('PGBKENC1');
    expect([encrypted[8], encrypted[9]]).toEqual([1, 1]);
    expect(encrypted.readUInt32BE(10)).toBe(MiB);
    expect(encrypted.subarray(21, 37).toString('ascii')).toBe(key.id);
    expect(encrypted.includes(key.key)).toBe(false);
  });

  it('decrypts input fed in odd-sized pieces that straddle chunk boundaries', async () => {
    const plaintext = randomBytes(3 * 64 * KiB + 777);
    const encrypted = await buffer(
      Readable.from(pieces(plaintext, 1009)).pipe(createEncryptStream({ key, chunkSize: 64 * KiB })),
    );
    const decrypted = await buffer(
      Readable.from(pieces(encrypted, 13)).pipe(createDecryptStream({ keyring: [key] })),
    );
    expect(decrypted.equals(plaintext)).toBe(true);
  });

  it('names the manifest algorithm', () => {
    expect(ENCRYPTION_ALGORITHM).toBe('aes-256-gcm-chunked-v1');
    expect(ENCRYPTION_HEADER_LENGTH).toBe(97);
  });

  it.each([0, 1000, 64 * KiB - 1, 16 * MiB + 1, 100_000.5])(
    'refuses chunk size %d with CONFIG_INVALID',
    (size) => {
      expect(() => createEncryptStream({ key, chunkSize: size })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    },
  );
});

function* pieces(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) {
    yield bytes.subarray(at, at + size);
  }
}
