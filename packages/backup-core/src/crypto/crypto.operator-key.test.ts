import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupError } from '../errors.js';
import { loadKeyring, loadOperatorKey, operatorKeyFromBytes } from './index.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'crypto-operator-key-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keyFile(name: string, contents: string | Buffer): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, contents, { mode: 0o600 });
  return file;
}

async function loadError(file: string): Promise<BackupError> {
  const error = await loadOperatorKey(file).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BackupError);
  return error as BackupError;
}

/** 32 random bytes that are not all printable, as any real random key is. */
function randomKey(): Buffer {
  const key = randomBytes(32);
  key[0] = 0xff;
  return key;
}

describe('operatorKeyFromBytes', () => {
  it('derives the id from the first 8 bytes of the SHA-256 of the key', () => {
    const bytes = randomKey();
    const key = operatorKeyFromBytes(bytes);
    expect(key.id).toBe(createHash('sha256').update(bytes).digest('hex').slice(0, 16));
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(key.key.equals(bytes)).toBe(true);
  });

  it('keeps its own copy of the key bytes', () => {
    const bytes = randomKey();
    const key = operatorKeyFromBytes(bytes);
    bytes.fill(0);
    expect(key.key.equals(bytes)).toBe(false);
  });

  it.each([0, 16, 31, 33, 64])('refuses %i bytes with ENCRYPTION_KEY_INVALID', (length) => {
    expect(() => operatorKeyFromBytes(Buffer.alloc(length, 7))).toThrow(
      expect.objectContaining({ code: 'ENCRYPTION_KEY_INVALID' }),
    );
  });
});

describe('loadOperatorKey', () => {
  const bytes = randomKey();
  const expected = operatorKeyFromBytes(bytes);

  it.each([
    ['64 hex characters with a newline (openssl rand -hex 32)', `${bytes.toString('hex')}\n`],
    ['upper-case hex surrounded by whitespace', `  ${bytes.toString('hex').toUpperCase()}\r\n`],
    ['base64 with padding and a newline (openssl rand -base64 32)', `${bytes.toString('base64')}\n`],
    ['base64url without padding', bytes.toString('base64url')],
    ['exactly 32 raw bytes', bytes],
  ])('reads %s', async (_label, contents) => {
    const key = await loadOperatorKey(await keyFile(`key-${randomBytes(4).toString('hex')}`, contents));
    expect(key.id).toBe(expected.id);
    expect(key.key.equals(bytes)).toBe(true);
  });

  it('reports a missing file as ENCRYPTION_KEY_MISSING naming the path', async () => {
    const file = path.join(dir, 'missing.key');
    const error = await loadError(file);
    expect(error.code).toBe('ENCRYPTION_KEY_MISSING');
    expect(error.message).toContain(file);
  });

  it('reports a directory as ENCRYPTION_KEY_MISSING', async () => {
    expect((await loadError(dir)).code).toBe('ENCRYPTION_KEY_MISSING');
  });

  it.each([
    ['a short hex key (62 characters)', `${randomBytes(31).toString('hex')}\n`],
    ['a long hex key (66 characters)', randomBytes(33).toString('hex')],
    ['base64 of 31 bytes', randomBytes(31).toString('base64')],
    ['31 raw bytes', Buffer.concat([Buffer.from([0xff]), randomBytes(30)])],
    ['an empty file', ''],
    ['a 32-character passphrase', 'correct horse battery staple 123'],
    ['garbage', 'password=hunter2-is-my-secret-please-do-not-print\n'],
  ])('refuses %s with ENCRYPTION_KEY_INVALID, saying what was expected', async (_label, contents) => {
    const file = await keyFile(`bad-${randomBytes(4).toString('hex')}`, contents);
    const error = await loadError(file);
    expect(error.code).toBe('ENCRYPTION_KEY_INVALID');
    expect(error.message).toContain('64 hex characters');
    expect(error.message).toContain('openssl rand -hex 32');
    expect(error.message).toContain(file);
    const text = Buffer.isBuffer(contents) ? contents.toString('latin1') : contents;
    for (const word of text.split(/\s+/).filter((part) => part.length >= 6)) {
      expect(error.message).not.toContain(word);
    }
    expect(JSON.stringify(error.details)).not.toContain('hunter2');
  });
});

describe('key file permissions', () => {
  const bytes = randomKey();

  // Modes are set with chmod, not writeFile's mode, which the umask may narrow. The check reads
  // the mode bits, so it holds when the tests run as root too (root can read any file).
  async function keyWithMode(mode: number): Promise<string> {
    const file = await keyFile(`mode-${randomBytes(4).toString('hex')}`, `${bytes.toString('hex')}\n`);
    await chmod(file, mode);
    return file;
  }

  it.each([0o600, 0o400])('accepts a key file with mode %o', async (mode) => {
    const key = await loadOperatorKey(await keyWithMode(mode));
    expect(key.key.equals(bytes)).toBe(true);
  });

  it.each([
    [0o644, '0644'],
    [0o640, '0640'],
    [0o604, '0604'],
    [0o660, '0660'],
  ])('refuses mode %o, naming the file, its mode and the fix', async (mode, shown) => {
    const file = await keyWithMode(mode);
    const error = await loadError(file);
    expect(error.code).toBe('ENCRYPTION_KEY_INVALID');
    expect(error.message).toContain(file);
    expect(error.message).toContain(shown);
    expect(error.message).toContain(`chmod 600 ${file}`);
    expect(error.details).toMatchObject({ path: file, mode: shown });
    expect(error.message).not.toContain(bytes.toString('hex'));
  });
});

describe('loadKeyring', () => {
  it('puts the encryption key first, then the decryption keys in order', async () => {
    const [a, b, c] = [randomKey(), randomKey(), randomKey()];
    const files = await Promise.all(
      [a, b, c].map((k) => keyFile(`ring-${randomBytes(4).toString('hex')}`, k.toString('hex'))),
    );
    const ring = await loadKeyring({
      encryptionKeyFile: files[0],
      decryptionKeyFiles: [files[1]!, files[2]!],
    });
    expect(ring.encryptionKey?.key.equals(a)).toBe(true);
    expect(ring.keyring.map((k) => k.id)).toEqual([a, b, c].map((k) => operatorKeyFromBytes(k).id));
    const without = await loadKeyring({ decryptionKeyFiles: [files[2]!] });
    expect(without.encryptionKey).toBeUndefined();
    expect(without.keyring.map((k) => k.id)).toEqual([operatorKeyFromBytes(c).id]);
  });

  it('refuses a decryption key file readable by others', async () => {
    const good = await keyFile(`ring-${randomBytes(4).toString('hex')}`, randomKey().toString('hex'));
    const open = await keyFile(`ring-${randomBytes(4).toString('hex')}`, randomKey().toString('hex'));
    await chmod(open, 0o644);
    await expect(loadKeyring({ encryptionKeyFile: good, decryptionKeyFiles: [open] })).rejects.toMatchObject({
      code: 'ENCRYPTION_KEY_INVALID',
      message: expect.stringContaining(`chmod 600 ${open}`),
    });
  });
});
