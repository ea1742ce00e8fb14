import type { Compression, VerifyLevel } from '../manifest.js';
import type { RetentionPolicy } from './retention.js';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Where a target database is. The password stays in memory; it is never shown or logged. */
export interface PgConnection {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
}

export interface TargetConfig {
  /** Matches /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/: safe in paths, job ids and commands. */
  name: string;
  connection: PgConnection;
  /** `postgresql://user@host:port/db`; never contains the password. */
  displayUrl: string;
  /** Cron, 5 fields or 6 with seconds first. Default `0 2 * * *`. */
  schedule: string;
  /** IANA zone the schedule is read in. Default `UTC`. */
  timeZone: string;
  retention: RetentionPolicy;
  /** Default `read`. */
  verify: VerifyLevel;
  /** Default `zstd`. */
  compression: Compression;
  /** No verified backup for longer than this means stale. Default: from the schedule (see defaultMaxAgeMs). */
  maxAgeMs: number;
  /** A dump smaller than this fraction of the previous verified one is suspicious; 0 disables. Default 0.5. */
  suspiciousRatio: number;
}

export interface BackupConfig {
  targets: TargetConfig[];
  /** Absolute. Default `./backups` against the working directory. */
  backupDir: string;
  /** Absolute. Default `./logs` against the working directory. */
  logDir: string;
  /** Absolute path of the key new backups are encrypted with; unset means no encryption. */
  encryptionKeyFile?: string;
  /** Absolute paths of older keys, kept to read backups made before a key rotation. Default []. */
  decryptionKeyFiles: string[];
  /** Defaults `redis://127.0.0.1:6379` and `pgbackup`. */
  redis: { url: string; prefix: string };
  /**
   * Defaults: concurrency 2, attempts 5, backoff 30s, timeout 6h, stall timeout 10m,
   * shutdown timeout 60s, health port 3001 (0 disables), health host 127.0.0.1.
   */
  worker: {
    concurrency: number;
    attempts: number;
    backoffMs: number;
    timeoutMs: number;
    stallTimeoutMs: number;
    shutdownTimeoutMs: number;
    healthPort: number;
    healthHost: string;
    webhookUrl?: string;
  };
  /** Defaults: port 3000, host unset (the dashboard decides), base path `/`, user `admin`. */
  dashboard: {
    port: number;
    host?: string;
    basePath: string;
    user: string;
    password?: string;
    viewerUser?: string;
    viewerPassword?: string;
  };
  /** Default `info`. */
  logLevel: LogLevel;
}

export interface LoadConfigOptions {
  /** Variables to read. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Same keys as `env` (the CLI maps `--backup-dir` to BACKUP_DIR); they win over `env`. Default {}. */
  overrides?: Record<string, string | undefined>;
  /** Relative paths in variables are resolved against it. Default `process.cwd()`. */
  cwd?: string;
  /** When true, a configuration without any target is an error. Default true. */
  requireTargets?: boolean;
}
