import { loadOperatorKey, type OperatorKey } from './operator-key.js';

export interface KeyFiles {
  /** BACKUP_ENCRYPTION_KEY_FILE: new backups are encrypted with it; it also decrypts. */
  encryptionKeyFile?: string | undefined;
  /** BACKUP_DECRYPTION_KEY_FILES: older keys, only ever used to decrypt. */
  decryptionKeyFiles: readonly string[];
}

export interface Keyring {
  encryptionKey: OperatorKey | undefined;
  /** Every key that may decrypt, the encryption key first. */
  keyring: OperatorKey[];
}

/** The one place the worker and backupctl load keys, so both apply the same file checks. */
export async function loadKeyring(files: KeyFiles): Promise<Keyring> {
  const encryptionKey = files.encryptionKeyFile ? await loadOperatorKey(files.encryptionKeyFile) : undefined;
  const older = await Promise.all(files.decryptionKeyFiles.map((file) => loadOperatorKey(file)));
  return { encryptionKey, keyring: encryptionKey ? [encryptionKey, ...older] : older };
}
