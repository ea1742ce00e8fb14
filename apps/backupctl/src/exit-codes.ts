/** backupctl's exit statuses: scripts and monitoring branch on them, so they never change meaning. */
export const exitCodes = {
  ok: 0,
  /** The job, the verification or the check failed (or a target is stale/failing for `status`). */
  failed: 1,
  /** A usage or configuration error: nothing was done. */
  usage: 2,
  /** Redis or PostgreSQL could not be reached. */
  unreachable: 3,
  /** Ctrl-C while waiting: the job keeps running. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** An error meant for the operator: a code, a sentence, an optional hint, and the exit status. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(code: string, message: string, exitCode: ExitCode, hint?: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

/** Thrown when Ctrl-C stops a wait; `jobId` is the job that keeps running. */
export class Interrupted extends Error {
  readonly jobId: string | undefined;

  constructor(jobId: string | undefined) {
    super(jobId ? `stopped waiting for job ${jobId}` : 'interrupted');
    this.name = 'Interrupted';
    this.jobId = jobId;
  }
}
