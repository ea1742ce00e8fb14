export {
  createDecryptStream,
  createEncryptStream,
  ENCRYPTION_ALGORITHM,
  loadOperatorKey,
  type OperatorKey,
  operatorKeyFromBytes,
  readEncryptionHeader,
  rewrapFile,
} from './crypto/index.js';
export { type DumpOptions, type DumpPhase, type DumpProgress, type DumpResult, type DumpTarget, runDump } from './dump/dump.js';
export { BackupError, type BackupErrorCode, errorCodes, isBackupError } from './errors.js';
export { isBackupId, newBackupId, type ParsedBackupId, parseBackupId, targetNamePattern } from './ids.js';
export { createLogger, type Logger, redactedPaths, silentLogger } from './logger.js';
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
export { classifyPostgresError, connect, libpqEnvironment, type PgConnection, withDatabase } from './postgres/connection.js';
export { findPgTool, type ToolInfo } from './postgres/tools.js';
export { type RestoreOptions, type RestorePhase, type RestoreResult, restoreBackup, safetyTargetName } from './restore/restore.js';
export { RunLog } from './run-log.js';
export {
  type CatalogEntry,
  type CatalogListing,
  deleteBackup,
  findBackup,
  listBackups,
  readManifest,
  recordVerification,
  writeManifest,
} from './storage/catalog.js';
export { sweepOrphans, type SweepOptions, type SweepResult } from './storage/sweep.js';
export { type VerifyOptions, type VerifyResult, verifyBackup } from './verify/verify.js';
