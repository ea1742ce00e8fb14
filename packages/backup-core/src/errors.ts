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
  TOOL_MISSING: { retryable: false },
  PG_DUMP_TOO_OLD: { retryable: false },
  PG_AUTH_FAILED: { retryable: false },
  PG_DATABASE_MISSING: { retryable: false },
  PG_UNREACHABLE: { retryable: true },
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
  ENCRYPTION_KEY_MISSING: { retryable: false },
  ENCRYPTION_KEY_INVALID: { retryable: false },
  DECRYPT_WRONG_KEY: { retryable: false },
  DECRYPT_TRUNCATED: { retryable: false },
  DECRYPT_TAMPERED: { retryable: false },
  DECRYPT_BAD_HEADER: { retryable: false },
  RESTORE_TARGET_NOT_EMPTY: { retryable: false },
  PRUNE_BLOCKED: { retryable: true },
  LOCKED: { retryable: true },
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
