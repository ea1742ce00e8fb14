export { defaultMaxAgeMs, nextRuns, validateCron } from './cron.js';
export { parseDuration } from './duration.js';
export { findTarget } from './find-target.js';
export { type ConfigSections, loadConfig, type WithSections } from './load.js';
export { localDefaultNotice, localDefaultUrl } from './local-default.js';
export { optional } from './optional.js';
export { type ConfigProblem, quote } from './problems.js';
export { defaultRetentionText, parseRetention, type RetentionPolicy } from './retention.js';
export type { ConfigSection, SectionReader } from './section.js';
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
