import type { z } from 'zod';
import type {
  backupConfigSchema,
  destinationConfigSchema,
  logLevels,
  pgConnectionSchema,
  pgTlsSchema,
  sslModes,
  targetConfigSchema,
} from './schema.js';

export { logLevels } from './schema.js';
export type LogLevel = (typeof logLevels)[number];

/** The shapes come from the zod schema in schema.ts, the one shared by every app. */
export type PgConnection = z.infer<typeof pgConnectionSchema>;
export type PgTls = z.infer<typeof pgTlsSchema>;
export type SslMode = (typeof sslModes)[number];
export type TargetConfig = z.infer<typeof targetConfigSchema>;
export type DestinationConfig = z.infer<typeof destinationConfigSchema>;
export type BackupConfig = z.infer<typeof backupConfigSchema>;

export interface LoadConfigOptions {
  /** Variables to read. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Same keys as `env` (the CLI maps `--backup-dir` to BACKUP_DIR); they win over `env`. Default {}. */
  overrides?: Record<string, string | undefined>;
  /** Relative paths in variables are resolved against it. Default `process.cwd()`. */
  cwd?: string;
  /** When true, a configuration without any target is an error. Default true. */
  requireTargets?: boolean;
  /**
   * When nothing configures a target, back up the local `postgres` database (local-default.ts).
   * The worker, backupctl and the dashboard pass true; the default, false, suits libraries and tests.
   */
  localDefault?: boolean;
}
