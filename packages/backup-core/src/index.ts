export {
  type BackupConfig,
  type ConfigProblem,
  type DestinationConfig,
  defaultMaxAgeMs,
  defaultRetentionText,
  displayUrl,
  findTarget,
  type LoadConfigOptions,
  type LogLevel,
  loadConfig,
  logLevels,
  nextRuns,
  parseDuration,
  parseRetention,
  type TargetConfig,
  validateCron,
} from './config/index.js';
export {
  createDecryptStream,
  createEncryptStream,
  ENCRYPTION_ALGORITHM,
  type KeyFiles,
  type Keyring,
  loadKeyring,
  loadOperatorKey,
  type OperatorKey,
  operatorKeyFromBytes,
  readEncryptionHeader,
  rewrapFile,
} from './crypto/index.js';
export {
  type DumpOptions,
  type DumpPhase,
  type DumpProgress,
  type DumpResult,
  type DumpTarget,
  runDump,
} from './dump/dump.js';
export {
  BackupError,
  type BackupErrorCode,
  backupDefectCodes,
  errorCodes,
  isBackupError,
  provesBackupDefect,
} from './errors.js';
export { copyHealth, type DestinationCopyHealth } from './health/copy-health.js';
export {
  type TargetHealth,
  type TargetHealthInput,
  type TargetHealthState,
  targetHealth,
} from './health/target-health.js';
export { isBackupId, newBackupId, type ParsedBackupId, parseBackupId, targetNamePattern } from './ids.js';
export { createLogger, type Logger, redactedPaths, silentLogger } from './logger.js';
export {
  type Compression,
  type Copy,
  compressionKinds,
  copySchema,
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
export { type FetchedBackup, fetchBackup } from './offsite/fetch-backup.js';
export {
  DEFAULT_INCOMPLETE_UPLOAD_AGE_MS,
  type MultipartSweepResult,
  sweepIncompleteUploads,
} from './offsite/multipart-sweep.js';
export { pickPartSize } from './offsite/part-size.js';
export {
  type CopyResult,
  type RemoteEntry,
  type RemoteListing,
  RemoteStore,
  type UploadProgress,
} from './offsite/remote-store.js';
export {
  type RemoteVerifyOptions,
  type RemoteVerifyResult,
  verifyRemoteBackup,
} from './offsite/remote-verify.js';
export { createS3Client } from './offsite/s3-client.js';
export { classifyS3Error, describeDestination } from './offsite/s3-errors.js';
export {
  listBackupsEverywhere,
  type PlacedBackup,
  type UnionListing,
} from './offsite/union-catalog.js';
export {
  classifyPostgresError,
  connect,
  libpqEnvironment,
  type PgConnection,
  withDatabase,
} from './postgres/connection.js';
export {
  checkRestoreDatabaseName,
  databaseNamePattern,
  databaseNameRule,
  isPlainDatabaseName,
  reservedDatabaseNames,
} from './postgres/database-name.js';
export { findPgTool, type ToolInfo } from './postgres/tools.js';
export {
  defaultRetentionPolicy,
  describeReason,
  type ExecutePruneOptions,
  executePrune,
  type PlanLocalPruneInput,
  type PlanPruneInput,
  type PruneDecision,
  type PrunePlan,
  type PruneReason,
  type PruneResult,
  type PruneStore,
  planLocalPrune,
  planPrune,
  type RetentionPolicy,
} from './prune/index.js';
export { hidden, redactSecrets, redactUrl } from './redact.js';
export {
  checkConfirmation,
  type ProtectedDatabase,
  sameHost,
  targetDatabases,
} from './restore/protected.js';
export {
  type RestoreOptions,
  type RestorePhase,
  type RestoreResult,
  restoreBackup,
  safetyTargetName,
} from './restore/restore.js';
export { RunLog } from './run-log.js';
export {
  type CatalogEntry,
  type CatalogListing,
  deleteBackup,
  findBackup,
  listBackups,
  readManifest,
  recordCopy,
  recordVerification,
  writeManifest,
} from './storage/catalog.js';
export { type SweepOptions, type SweepResult, sweepOrphans } from './storage/sweep.js';
export { assertWritableDirectory } from './storage/writable.js';
export { type VerifyOptions, type VerifyResult, verifyBackup } from './verify/verify.js';
