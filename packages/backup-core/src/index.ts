// The catalog subpath's exports (configuration, local catalog, health, formatting) are defined
// there once and re-exported here; the rest of the engine follows.
export * from './catalog-entry.js';
export {
  type ConfigSection,
  type ConfigSections,
  defaultMaxAgeMs,
  defaultRetentionText,
  type LogLevel,
  logLevels,
  nextRuns,
  optional,
  parseDuration,
  parseRetention,
  quote,
  type SectionReader,
  validateCron,
  type WithSections,
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
  type DatabaseRow,
  type DiscoveredDatabase,
  type Discovery,
  type DiscoveryRule,
  describeSkip,
  discoverDatabases,
  discoveredTarget,
  discoveredTargetName,
  globalsTarget,
  globMatches,
  listDatabases,
  maxServerNameLength,
  type SkipReason,
  selectDatabases,
} from './discovery/index.js';
export {
  type DrillOptions,
  type DrillPhase,
  type DrillResult,
  type DrillSource,
  localDrillSource,
  runDrill,
} from './drill/drill.js';
export { checkDrillServer, drillServerLabel } from './drill/drill-server.js';
export { type DrillOfBackup, type DrillStatus, drillStatus } from './drill/drill-status.js';
export {
  type DumpOptions,
  type DumpPhase,
  type DumpProgress,
  type DumpResult,
  type DumpTarget,
  runDump,
} from './dump/dump.js';
export {
  type DumpPhaseName,
  type DumpTimings,
  dumpPhases,
  parseDumpTimings,
} from './dump/dump-timings.js';
export { backupDefectCodes, provesBackupDefect } from './errors.js';
export {
  dumpGlobals,
  type GlobalsAction,
  type GlobalsDumpOptions,
  type GlobalsDumpResult,
  type GlobalsStatement,
  type GlobalsStep,
  globalsTargetName,
  parseGlobals,
  type RestoreGlobalsOptions,
  type RestoreGlobalsResult,
  restoreGlobals,
} from './globals/index.js';
export { copyHealth, type DestinationCopyHealth } from './health/copy-health.js';
export { currentCopies, withCurrentCopies } from './health/current-copies.js';
export { newBackupId, type ParsedBackupId } from './ids.js';
export { createLogger, type Logger, redactedPaths, silentLogger } from './logger.js';
export {
  type Compression,
  type Copy,
  compressionKinds,
  copySchema,
  type Drill,
  drillSchema,
  levelRank,
  manifestSchema,
  type TableStat,
  type Verification,
  type VerifyLevel,
  verifyLevels,
} from './manifest.js';
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
export { onStopSignals, type StopHandlers } from './process/stop-signals.js';
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
export { overlapDecodePays } from './restore/parallel-backup-restore.js';
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
  deleteBackup,
  dropCopy,
  readManifest,
  recordCopy,
  recordDrill,
  recordVerification,
  writeManifest,
} from './storage/catalog.js';
export { type SweepOptions, type SweepResult, sweepOrphans } from './storage/sweep.js';
export { assertWritableDirectory } from './storage/writable.js';
export { type VerifyOptions, type VerifyResult, verifyBackup } from './verify/verify.js';
