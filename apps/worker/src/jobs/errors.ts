import { BackupError, redactSecrets } from '@pgbackup/backup-core';
import { UnrecoverableError } from 'bullmq';
import { InvalidJobDataError } from '../queue/job-data.js';

/** The code at the start of a failed job's reason: `CODE: message`, which the dashboard and CLI parse. */
export function errorCodeOf(error: unknown): string {
  if (error instanceof BackupError) return error.code;
  if (error instanceof InvalidJobDataError) return 'JOB_DATA_INVALID';
  return 'INTERNAL';
}

export function parseFailureCode(reason: string | undefined): string | undefined {
  return reason ? /^([A-Z][A-Z0-9_]+): /.exec(reason)?.[1] : undefined;
}

/**
 * What BullMQ sees of a failure: errors that retrying cannot fix (bad credentials, a missing
 * database, a corrupt backup, invalid job data) become UnrecoverableError, so the job fails at
 * once instead of spending its attempts; the message always starts with the error code.
 * The message is stored in Redis and shown by the CLI and dashboard: URL passwords are hidden.
 */
export function toJobError(error: unknown): Error {
  const code = errorCodeOf(error);
  const message = `${code}: ${redactSecrets(error instanceof Error ? error.message : String(error))}`;
  const retryable = error instanceof BackupError ? error.retryable : !(error instanceof InvalidJobDataError);
  if (!retryable) return new UnrecoverableError(message);
  const wrapped = new Error(message, { cause: error });
  wrapped.name = error instanceof Error ? error.name : 'Error';
  return wrapped;
}
