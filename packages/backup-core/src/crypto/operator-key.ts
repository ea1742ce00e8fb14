import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { BackupError } from '../errors.js';

/** The operator's long-lived key. It only ever wraps per-backup data keys. */
export interface OperatorKey {
  /** 16 hex characters derived from the key; safe to log and store in manifests. */
  id: string;
  key: Buffer;
}

export const OPERATOR_KEY_LENGTH = 32;
const EXPECTED =
  '64 hex characters, e.g. from `openssl rand -hex 32` (base64 of 32 bytes, or exactly 32 raw bytes, also work)';

/** First 8 bytes of SHA-256 of the key, in hex: identifies the key without revealing it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('hex');
}

export function operatorKeyFromBytes(key: Buffer): OperatorKey {
  if (key.length !== OPERATOR_KEY_LENGTH) {
    throw new BackupError(
      'ENCRYPTION_KEY_INVALID',
      `An encryption key must be ${OPERATOR_KEY_LENGTH} bytes; got ${key.length}.`,
    );
  }
  // A copy, so a caller reusing or zeroing its buffer cannot change the key under us.
  const copy = Buffer.from(key);
  return { id: keyIdOf(copy), key: copy };
}

/**
 * Reads a key file: 64 hex chars, or base64 of 32 bytes (whitespace/newline trimmed), or exactly 32 raw
 * bytes. Missing/unreadable file -> ENCRYPTION_KEY_MISSING; a file group or others may read, or
 * anything but a key -> ENCRYPTION_KEY_INVALID. Messages never contain the file's contents.
 */
export async function loadOperatorKey(path: string): Promise<OperatorKey> {
  let bytes: Buffer;
  let mode: number;
  try {
    // The mode and the bytes come from one open file, so a file swapped in between is not read.
    const handle = await open(path, 'r');
    try {
      mode = (await handle.stat()).mode;
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new BackupError(
      'ENCRYPTION_KEY_MISSING',
      `Cannot read the encryption key file ${path} (${reason}).`,
      {
        cause: error,
        details: { path },
      },
    );
  }
  assertPrivateMode(path, mode);
  const key = decodeKeyFile(bytes);
  if (key === undefined) {
    throw new BackupError(
      'ENCRYPTION_KEY_INVALID',
      `The encryption key file ${path} does not hold a key (${bytes.length} bytes): expected ${EXPECTED}.`,
      { details: { path } },
    );
  }
  return operatorKeyFromBytes(key);
}

/**
 * As ssh does with private keys: a key others could read is refused, even when this process
 * could read it anyway (root), because the mode bits say who else can.
 */
function assertPrivateMode(path: string, mode: number): void {
  if ((mode & 0o077) === 0) return;
  const shown = (mode & 0o777).toString(8).padStart(4, '0');
  throw new BackupError(
    'ENCRYPTION_KEY_INVALID',
    `The encryption key file ${path} has mode ${shown}: group or others may read it. Run \`chmod 600 ${path}\` (and check who had access).`,
    { details: { path, mode: shown } },
  );
}

function decodeKeyFile(bytes: Buffer): Buffer | undefined {
  // Raw keys are checked untrimmed: whitespace bytes are legitimate key bytes.
  if (bytes.length === OPERATOR_KEY_LENGTH && !looksLikeText(bytes)) {
    return bytes;
  }
  const text = bytes.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) {
    return Buffer.from(text, 'hex');
  }
  // 32 bytes are 43 base64 characters plus one '=' of padding; Node's decoder takes both alphabets.
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const key = Buffer.from(text, 'base64');
    return key.length === OPERATOR_KEY_LENGTH ? key : undefined;
  }
  return undefined;
}

/**
 * 32 random bytes are all printable with probability (98/256)^32, about 5e-14, so a 32-byte text
 * file is a passphrase or a typo, not a key: refusing it beats silently using a weak key.
 */
function looksLikeText(bytes: Buffer): boolean {
  for (const byte of bytes) {
    if (!(byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte < 0x7f))) {
      return false;
    }
  }
  return true;
}
