/**
 * Every failure the engine reports carries one of these codes. `retryable` says whether
 * trying again later can help: the worker turns non-retryable errors into BullMQ's
 * UnrecoverableError so a wrong password is not retried five times.
 */
export const errorCodes = {
  CONFIG_INVALID: { retryable: false },
  TARGET_UNKNOWN: { retryable: false },
  BACKUP_ID_INVALID: { retryable: false },
  BACKUP_NOT_FOUND: { retryable: false },
  MANIFEST_INVALID: { retryable: false },
  /** Another update of the same manifest held its lock too long (storage/manifest-lock.ts). */
  MANIFEST_LOCKED: { retryable: true },
  TOOL_MISSING: { retryable: false },
  PG_DUMP_TOO_OLD: { retryable: false },
  PG_AUTH_FAILED: { retryable: false },
  PG_DATABASE_MISSING: { retryable: false },
  PG_UNREACHABLE: { retryable: true },
  /**
   * TLS to PostgreSQL failed: the certificate did not verify (wrong CA, wrong host name), the
   * server refused TLS that sslmode requires, or a client certificate or key was unusable. Every
   * one is a configuration mismatch that waiting does not fix; never answered by a plain retry.
   */
  PG_TLS_FAILED: { retryable: false },
  REDIS_AUTH_FAILED: { retryable: false },
  DUMP_FAILED: { retryable: true },
  DUMP_EMPTY: { retryable: false },
  DUMP_SUSPICIOUS: { retryable: false },
  DUMP_STALLED: { retryable: true },
  COMPRESSION_FAILED: { retryable: true },
  WRITE_FAILED: { retryable: true },
  DISK_FULL: { retryable: true },
  ABORTED: { retryable: true },
  CHECKSUM_MISMATCH: { retryable: false },
  SIZE_MISMATCH: { retryable: false },
  BACKUP_FILE_MISSING: { retryable: false },
  BACKUP_FILE_EMPTY: { retryable: false },
  COMPRESSED_STREAM_CORRUPT: { retryable: false },
  ARCHIVE_UNREADABLE: { retryable: false },
  ARCHIVE_CONTENT_MISMATCH: { retryable: false },
  RESTORE_FAILED: { retryable: true },
  ROW_COUNT_MISMATCH: { retryable: false },
  /**
   * After a restore, the database's owner, settings, comment or ACL is not what the archive's
   * DATABASE entries say (verify --level restore, drills).
   */
  DATABASE_PROPERTY_MISMATCH: { retryable: false },
  ENCRYPTION_KEY_MISSING: { retryable: false },
  ENCRYPTION_KEY_INVALID: { retryable: false },
  DECRYPT_WRONG_KEY: { retryable: false },
  DECRYPT_TRUNCATED: { retryable: false },
  DECRYPT_TAMPERED: { retryable: false },
  DECRYPT_BAD_HEADER: { retryable: false },
  RESTORE_TARGET_NOT_EMPTY: { retryable: false },
  /** A restore database name that is not a plain identifier, or a template/maintenance database. */
  RESTORE_DATABASE_INVALID: { retryable: false },
  /** Replacing the database a configured target backs up without `confirm` naming that target. */
  RESTORE_CONFIRM_REQUIRED: { retryable: false },
  PRUNE_BLOCKED: { retryable: true },
  LOCKED: { retryable: true },
  BACKUP_FILE_UNREADABLE: { retryable: true },
  VERIFY_INCONCLUSIVE: { retryable: true },
  SCRATCH_SERVER_FAILED: { retryable: true },
  /** The destination's endpoint did not answer (refused, reset, timed out, DNS): it may come back. */
  S3_UNREACHABLE: { retryable: true },
  /** The endpoint answered 5xx or 429 (SlowDown): the provider's trouble, worth retrying. */
  S3_UNAVAILABLE: { retryable: true },
  /** Unknown access key or wrong signature: a configuration problem, never retried. */
  S3_AUTH_FAILED: { retryable: false },
  S3_BUCKET_MISSING: { retryable: false },
  S3_ACCESS_DENIED: { retryable: false },
  /** Any other 4xx answer (for example a checksum header the provider refuses). */
  S3_REQUEST_FAILED: { retryable: false },
  /** The object after upload is not the size or SHA-256 it should be: uploading again may fix it. */
  COPY_NOT_CONFIRMED: { retryable: true },
  /** A backup too large for the destination's part limit at 5 GiB per part. */
  COPY_TOO_LARGE: { retryable: false },
  DESTINATION_UNKNOWN: { retryable: false },
  /**
   * The drill server is the server of a configured target: a drill would restore SQL chosen by a
   * source's superusers next to production data. Allowed only explicitly.
   */
  DRILL_SERVER_REFUSED: { retryable: false },
  /** No drill server configured for the target (BACKUP_DRILL_DATABASE_URL or the target's `drill`). */
  DRILL_SERVER_MISSING: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type BackupErrorCode = keyof typeof errorCodes;

export interface BackupErrorOptions {
  cause?: unknown;
  /** Extra facts for logs and the run log (never secrets). */
  details?: Record<string, unknown>;
}

export class BackupError extends Error {
  readonly code: BackupErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: BackupErrorCode, message: string, options: BackupErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BackupError';
    this.code = code;
    this.retryable = errorCodes[code].retryable;
    this.details = options.details;
  }
}

export function isBackupError(error: unknown, code?: BackupErrorCode): error is BackupError {
  return error instanceof BackupError && (code === undefined || error.code === code);
}

/**
 * The codes that prove a backup bad: the file is not what was written, or what it holds does not
 * restore. Only these are recorded as a failed verification (which takes the backup out of
 * retention's count); anything else (a missing key, a scratch server down, a full disk, an error
 * nobody foresaw) says only that the check could not be made. A list of defects rather than of
 * environment failures, so that an unforeseen error can never get a good backup pruned.
 */
export const backupDefectCodes: ReadonlySet<BackupErrorCode> = new Set<BackupErrorCode>([
  'CHECKSUM_MISMATCH',
  'SIZE_MISMATCH',
  'BACKUP_FILE_MISSING',
  'BACKUP_FILE_EMPTY',
  'COMPRESSED_STREAM_CORRUPT',
  'ARCHIVE_UNREADABLE',
  'ARCHIVE_CONTENT_MISMATCH',
  'ROW_COUNT_MISMATCH',
  'DATABASE_PROPERTY_MISMATCH',
  'RESTORE_FAILED',
  'DECRYPT_TRUNCATED',
  'DECRYPT_TAMPERED',
  'DECRYPT_BAD_HEADER',
]);

/** True when the error proves the backup bad (see backupDefectCodes). */
export function provesBackupDefect(error: unknown): boolean {
  return error instanceof BackupError && backupDefectCodes.has(error.code);
}
