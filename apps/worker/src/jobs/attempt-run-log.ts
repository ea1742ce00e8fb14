import { RunLog } from '@pgbackup/backup-core';

/**
 * The run log of one attempt (`<target>_<time>[_kind].log`, ending in a STATUS line). The handler
 * opens it once it knows the target (a dump only once it holds the target's lock); the processor
 * ends it, on the one success path and the one failure path every job kind shares.
 */
export class AttemptRunLog {
  private opened: Promise<RunLog> | undefined;
  private summaryText: string | undefined;

  constructor(
    private readonly logDir: string,
    private readonly kind: string,
  ) {}

  /** Opens the log (once; later calls return the same one). */
  open(target: string): Promise<RunLog> {
    this.opened ??= RunLog.open(this.logDir, target, this.kind);
    return this.opened;
  }

  /** The line the log ends with, before `STATUS: SUCCESS`, if the attempt succeeds. */
  summary(text: string): void {
    this.summaryText = text;
  }

  /** Ends an opened log with the summary and `STATUS: SUCCESS`; nothing when never opened. */
  async succeed(fallback: string): Promise<void> {
    const log = await this.opened?.catch(() => undefined);
    await log?.succeed(this.summaryText ?? fallback);
  }

  /** Ends an opened log with `STATUS: ERROR <code>: <message>`; never throws. */
  async fail(error: unknown): Promise<void> {
    const log = await this.opened?.catch(() => undefined);
    await log?.fail(error).catch(() => undefined);
  }
}
