import type { FileHandle } from 'node:fs/promises';

/** Written out every 8 MiB: the final fsync then has at most a few MiB left to wait for. */
export const FLUSH_EVERY_BYTES = 8 * 1024 * 1024;

/**
 * Has the kernel write a growing file out as it grows: every `every` bytes an fdatasync starts in
 * the background (never two at once), so the dirty pages go to disk while pg_dump still runs
 * instead of all at the final fsync (measured in docs/benchmarks.md). `sync()` is still the one
 * fsync that makes the file durable; an error of a background flush is kept and thrown by it,
 * because Linux reports a writeback error to one fsync only, and that may have been the
 * background one. fsync acts on the file, not the descriptor: the pages another process wrote
 * through its own descriptor are flushed too.
 */
export class BackgroundFlush {
  private flushedAt = 0;
  private flushing: Promise<void> | undefined;
  private flushError: unknown;

  constructor(
    private readonly handle: FileHandle,
    private readonly every = FLUSH_EVERY_BYTES,
  ) {}

  /** The file now holds `length` bytes: starts a flush when enough was added since the last. */
  grew(length: number): void {
    if (length - this.flushedAt < this.every || this.flushing !== undefined) return;
    this.flushedAt = length;
    this.flushing = this.handle
      .datasync()
      .catch((error: unknown) => {
        this.flushError ??= error;
      })
      .finally(() => {
        this.flushing = undefined;
      });
  }

  /** Waits for a background flush, then fsyncs: the file's data and size are on disk. */
  async sync(): Promise<void> {
    await this.flushing;
    if (this.flushError !== undefined) throw this.flushError;
    await this.handle.sync();
  }

  /** Resolves once no background flush is running (before the file is closed). */
  async settled(): Promise<void> {
    await this.flushing;
  }
}
