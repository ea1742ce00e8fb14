export { BackupError, type BackupErrorCode, errorCodes, isBackupError } from './errors.js';
export {
  type Compression,
  compressionKinds,
  isVerified,
  levelRank,
  type Manifest,
  manifestSchema,
  type TableStat,
  type Verification,
  type VerificationState,
  type VerifyLevel,
  verificationState,
  verifyLevels,
} from './manifest.js';
