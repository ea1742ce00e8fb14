import { open } from 'node:fs/promises';
import { BackupError } from '../errors.js';
import { ENCRYPTION_HEADER_LENGTH, encodeRewrappable, parseHeader, REWRAPPABLE_OFFSET } from './format.js';
import { unwrapDataKey, wrapDataKey } from './key-wrap.js';
import type { OperatorKey } from './operator-key.js';

/**
 * Key rotation: unwraps the data key with the keyring and rewrites only the rewrappable header part in
 * place with `newKey`. Returns the new key id. The body is untouched, so rotating a key costs one small
 * write per backup however large it is; the file's SHA-256 does change, so its manifest needs the new
 * checksum and key id.
 *
 * The rewritten range is 76 bytes inside the first 512-byte sector, which storage writes all or nothing
 * in practice; a crash leaves either the old wrap (old key still decrypts) or the new one.
 */
export async function rewrapFile(
  path: string,
  keyring: readonly OperatorKey[],
  newKey: OperatorKey,
): Promise<{ keyId: string }> {
  const handle = await openForRewrite(path);
  try {
    const bytes = Buffer.alloc(ENCRYPTION_HEADER_LENGTH);
    const { bytesRead } = await io(path, 'read', () => handle.read(bytes, 0, bytes.length, 0));
    const header = parseHeader(bytes.subarray(0, bytesRead));
    const dataKey = unwrapDataKey(header.wrapped, keyring, header.immutable);
    const rewrapped = encodeRewrappable(wrapDataKey(dataKey, newKey, header.immutable));
    await io(path, 'write', async () => {
      const { bytesWritten } = await handle.write(rewrapped, 0, rewrapped.length, REWRAPPABLE_OFFSET);
      if (bytesWritten !== rewrapped.length) {
        throw new Error(`short write: ${bytesWritten} of ${rewrapped.length} bytes`);
      }
      await handle.sync();
    });
    return { keyId: newKey.id };
  } finally {
    await handle.close();
  }
}

async function openForRewrite(path: string) {
  try {
    return await open(path, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BackupError('BACKUP_FILE_MISSING', `Cannot rewrap ${path}: the file does not exist.`, {
        cause: error,
        details: { path },
      });
    }
    throw ioError(path, 'open', error);
  }
}

async function io<T>(path: string, action: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw ioError(path, action, error);
  }
}

function ioError(path: string, action: string, error: unknown): BackupError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new BackupError('WRITE_FAILED', `Cannot rewrap ${path}: ${action} failed (${reason}).`, {
    cause: error,
    details: { path },
  });
}
