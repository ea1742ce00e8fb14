export { defaultMaxAgeMs, nextRuns, validateCron } from './cron.js';
export { parseDuration } from './duration.js';
export { findTarget } from './find-target.js';
export { loadConfig } from './load.js';
export { localDefaultNotice, localDefaultUrl } from './local-default.js';
export type { ConfigProblem } from './problems.js';
export { defaultRetentionText, parseRetention, type RetentionPolicy } from './retention.js';
export { targetNamePattern } from './target-name.js';
export {
  type BackupConfig,
  type DestinationConfig,
  type LoadConfigOptions,
  type LogLevel,
  logLevels,
  type PgConnection,
  type TargetConfig,
} from './types.js';
export { displayUrl } from './url.js';
