/**
 * A failed job's reason is `CODE: message`: the worker writes it, and the CLI, the alerts and the
 * dashboard's metrics read the code back. This file is the one place that knows the format.
 */

/** An error code: upper case, digits and underscores, as in backup-core's errors.ts. */
const REASON_PATTERN = /^([A-Z][A-Z0-9_]{1,63}): /;

export function formatFailureReason(code: string, message: string): string {
  return `${code}: ${message}`;
}

/** The code at the start of a failure reason; undefined when there is none (BullMQ's own failures). */
export function failureCodeOf(reason: string | null | undefined): string | undefined {
  return reason ? REASON_PATTERN.exec(reason)?.[1] : undefined;
}
