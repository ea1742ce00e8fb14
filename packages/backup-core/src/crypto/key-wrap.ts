import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BackupError } from '../errors.js';
import { DATA_KEY_LENGTH, TAG_LENGTH, WRAP_IV_LENGTH, type WrappedKey } from './format.js';
import { keyIdOf, OPERATOR_KEY_LENGTH, type OperatorKey } from './operator-key.js';

/** Seals a data key under an operator key, bound to the header's immutable part. */
export function wrapDataKey(dataKey: Buffer, operatorKey: OperatorKey, immutable: Buffer): WrappedKey {
  // OperatorKey is a plain interface: a hand-built one could carry an id that does not name its key,
  // and a file labelled with it could then never be matched to the right key.
  if (operatorKey.key.length !== OPERATOR_KEY_LENGTH || operatorKey.id !== keyIdOf(operatorKey.key)) {
    throw new BackupError(
      'ENCRYPTION_KEY_INVALID',
      `An encryption key must be ${OPERATOR_KEY_LENGTH} bytes with the id derived from them; build it with operatorKeyFromBytes.`,
    );
  }
  const iv = randomBytes(WRAP_IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', operatorKey.key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(immutable);
  const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return { keyId: operatorKey.id, iv, ciphertext, tag: cipher.getAuthTag() };
}

/**
 * Finds the keyring entry named by the header and opens the data key with it.
 *
 * Key ids are derived from the key bytes, so when the entry really is the key the id names and still
 * fails to unwrap, the key is right and the file is not: that is DECRYPT_TAMPERED (the immutable
 * header or the wrap fields were modified). DECRYPT_WRONG_KEY is kept for "you do not hold this key",
 * including a keyring entry whose id does not match its bytes.
 */
export function unwrapDataKey(
  wrapped: WrappedKey,
  keyring: readonly OperatorKey[],
  immutable: Buffer,
): Buffer {
  const operatorKey = keyring.find((candidate) => candidate.id === wrapped.keyId);
  if (operatorKey === undefined) {
    const available = keyring.map((candidate) => candidate.id);
    throw new BackupError(
      'DECRYPT_WRONG_KEY',
      `The backup was encrypted with key ${wrapped.keyId}, which is not in the keyring (available: ${
        available.length === 0 ? 'none' : available.join(', ')
      }).`,
      { details: { keyId: wrapped.keyId, available } },
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', operatorKey.key, wrapped.iv, {
      authTagLength: TAG_LENGTH,
    });
    decipher.setAAD(immutable);
    decipher.setAuthTag(wrapped.tag);
    const dataKey = Buffer.concat([decipher.update(wrapped.ciphertext), decipher.final()]);
    if (dataKey.length !== DATA_KEY_LENGTH) {
      throw new Error('unexpected data key length');
    }
    return dataKey;
  } catch (error) {
    if (operatorKey.key.length === OPERATOR_KEY_LENGTH && keyIdOf(operatorKey.key) === wrapped.keyId) {
      throw new BackupError(
        'DECRYPT_TAMPERED',
        `The data key does not authenticate under key ${wrapped.keyId} although that is the right key: the encryption header was modified.`,
        { cause: error, details: { keyId: wrapped.keyId } },
      );
    }
    throw new BackupError(
      'DECRYPT_WRONG_KEY',
      `The keyring entry with id ${wrapped.keyId} does not hold the key with that id (the id does not match its bytes), so it cannot unwrap the data key.`,
      {
        cause: error,
        details: { keyId: wrapped.keyId, available: keyring.map((candidate) => candidate.id) },
      },
    );
  }
}
