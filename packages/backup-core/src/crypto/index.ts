/**
 * Encryption of backup files: a chunked AES-256-GCM format with a per-backup data key wrapped by the
 * operator's key (see format.ts for the layout). Everything the rest of the engine may use is here.
 */
export { createDecryptStream, type DecryptStreamOptions } from './decrypt-stream.js';
export { createEncryptStream, type EncryptStreamOptions } from './encrypt-stream.js';
export {
  ENCRYPTION_ALGORITHM,
  ENCRYPTION_HEADER_LENGTH,
  type EncryptionHeaderInfo,
  readEncryptionHeader,
} from './format.js';
export { type KeyFiles, type Keyring, loadKeyring } from './keyring.js';
export { loadOperatorKey, type OperatorKey, operatorKeyFromBytes } from './operator-key.js';
export { rewrapFile } from './rewrap.js';
