/**
 * The configuration and the local catalog without the engine: what a command that only reads
 * (backupctl `backups`, `status`, `--help` paths) needs. Importing the package's main entry point
 * loads every module (dump, restore, drill, globals, postgres); this one loads about a third of
 * them, which is most of backupctl's start-up time (docs/benchmarks-cli-start.md).
 * The main entry point re-exports this whole list (`export *`), so each name is listed here only.
 */
export {
  type BackupConfig,
  type ConfigProblem,
  type DestinationConfig,
  displayUrl,
  findTarget,
  type LoadConfigOptions,
  loadConfig,
  localDefaultNotice,
  localDefaultUrl,
  type TargetConfig,
} from './config/index.js';
export { BackupError, type BackupErrorCode, errorCodes, isBackupError } from './errors.js';
export {
  failureAnswered,
  type TargetFailure,
  type TargetHealth,
  type TargetHealthInput,
  type TargetHealthState,
  targetHealth,
} from './health/target-health.js';
export { humanBytes, humanDuration } from './human-format.js';
export { isBackupId, parseBackupId, targetNamePattern } from './ids.js';
export { isVerified, type Manifest, type VerificationState, verificationState } from './manifest.js';
export { hidden, redactSecrets, redactUrl } from './redact.js';
export { type CatalogEntry, type CatalogListing, findBackup, listBackups } from './storage/catalog.js';
export {
  type Catalog,
  type CatalogBackup,
  type CatalogConfig,
  catalogReadsBuckets,
  type DestinationListing,
  readCatalog,
} from './storage/configured-catalog.js';
