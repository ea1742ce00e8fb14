import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import { Writable } from 'node:stream';

/** Written out every 8 MiB: the final fsync then has at most a few MiB left to wait for. */
export const FLUSH_EVERY_BYTES = 8 * 1024 * 1024;

/**
 * The backup's partial file as a stream that has the kernel write it out as it grows: every
 * `flushEvery` bytes an fdatasync starts in the background (never two at once), so the dirty
 * pages go to disk while pg_dump still runs instead of all at the final fsync (measured in
 * docs/benchmarks.md). `sync()` is still the one fsync that makes the file durable; an error of a
 * background flush is kept and thrown by it, because Linux reports a writeback error to one
 * fsync only, and that may have been the background one.
 */
export class FlushingFile extends Writable {
  private written = 0;
  private flushedAt = 0;
  private flushing: Promise<void> | undefined;
  private flushError: unknown;

  private constructor(
    readonly handle: FileHandle,
    private readonly flushEvery: number,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  /** Creates the file (it must not exist), mode 0600. */
  static async create(file: string, flushEvery = FLUSH_EVERY_BYTES): Promise<FlushingFile> {
    return new FlushingFile(await fs.open(file, 'wx', 0o600), flushEvery);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeAll([chunk]).then(() => callback(), callback);
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    this.writeAll(chunks.map((entry) => entry.chunk)).then(() => callback(), callback);
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    let pending = buffers;
    while (pending.length > 0) {
      const total = pending.reduce((sum, buffer) => sum + buffer.length, 0);
      const { bytesWritten } = await this.handle.writev(pending);
      this.written += bytesWritten;
      if (bytesWritten >= total) break;
      // A short write (rare on a regular file): carry on from where it stopped.
      let skip = bytesWritten;
      const rest: Buffer[] = [];
      for (const buffer of pending) {
        if (skip >= buffer.length) skip -= buffer.length;
        else {
          rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
          skip = 0;
        }
      }
      pending = rest;
    }
    if (this.written - this.flushedAt >= this.flushEvery && this.flushing === undefined) {
      this.flushedAt = this.written;
      this.flushing = this.handle
        .datasync()
        .catch((error: unknown) => {
          this.flushError ??= error;
        })
        .finally(() => {
          this.flushing = undefined;
        });
    }
  }

  /** Waits for a background flush, then fsyncs: the file's data and size are on disk. */
  async sync(): Promise<void> {
    await this.flushing;
    if (this.flushError !== undefined) throw this.flushError;
    await this.handle.sync();
  }

  /** Closes the file (after any background flush); safe to call more than once. */
  async closeFile(): Promise<void> {
    await this.flushing;
    await this.handle.close().catch(() => undefined);
  }
}
