import { type BackupErrorCode, isBackupError } from '@pgbackup/backup-core/catalog';
import { CliError, type ExitCode, exitCodes, Interrupted } from './exit-codes.js';

const usageCodes: ReadonlySet<BackupErrorCode> = new Set([
  'CONFIG_INVALID',
  'TARGET_UNKNOWN',
  'DESTINATION_UNKNOWN',
  'BACKUP_ID_INVALID',
  'BACKUP_NOT_FOUND',
  'ENCRYPTION_KEY_MISSING',
  'ENCRYPTION_KEY_INVALID',
  'RESTORE_DATABASE_INVALID',
  'RESTORE_CONFIRM_REQUIRED',
  'REDIS_AUTH_FAILED',
]);

/** Errors ioredis and BullMQ raise when Redis is gone in the middle of a command. */
function isRedisConnectionError(error: Error): boolean {
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Stream isn't writeable/.test(
      error.message,
    )
  );
}

export interface ReportedError {
  code: string;
  message: string;
  hint: string | undefined;
  exitCode: ExitCode;
}

/** Maps any error to what the operator sees and the exit status. */
export function classifyError(error: unknown): ReportedError {
  if (error instanceof CliError) {
    return { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode };
  }
  if (error instanceof Interrupted) {
    return { code: 'INTERRUPTED', message: error.message, hint: undefined, exitCode: exitCodes.interrupted };
  }
  if (isBackupError(error)) {
    const exitCode = usageCodes.has(error.code)
      ? exitCodes.usage
      : error.code === 'PG_UNREACHABLE'
        ? exitCodes.unreachable
        : exitCodes.failed;
    return { code: error.code, message: error.message, hint: undefined, exitCode };
  }
  const err = error instanceof Error ? error : new Error(String(error));
  if (isRedisConnectionError(err)) {
    return {
      code: 'REDIS_UNREACHABLE',
      message: `lost the connection to Redis: ${err.message}`,
      hint: undefined,
      exitCode: 3,
    };
  }
  return { code: 'INTERNAL', message: err.stack ?? err.message, hint: undefined, exitCode: exitCodes.failed };
}
