import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { BackgroundFlush } from './background-flush.js';

const READ_BYTES = 1024 * 1024;
/** How long to wait for more bytes after reading to the current end of the file. */
const POLL_MS = 10;

/**
 * Hashes a file while another process writes it (the compressor, whose standard output is the
 * backup's partial file). The bytes go from zstd to the file without passing through Node: on the
 * 2-core bench machine, reading zstd's output through a pipe into Node and writing it out again
 * cost about 0.9 s at 800 MB beyond the shell pipeline (docs/benchmarks.md). Node reads them back
 * from the page cache with positional reads (the writer's file offset is untouched) and hashes
 * them, so the SHA-256 is of the bytes in the file itself, and has the kernel write the file out as
 * it grows (BackgroundFlush).
 *
 * Only for writers that write their output once, front to back: a compressor does; pg_dump
 * writing a seekable custom-format file goes back to fill in its table of contents, so an
 * uncompressed dump keeps its bytes in Node (flushing-file.ts).
 */
export class FileFollower {
  /** Bytes read and hashed so far. */
  bytes = 0;
  private readonly hash = createHash('sha256');
  private readonly flush: BackgroundFlush;

  constructor(private readonly handle: FileHandle) {
    this.flush = new BackgroundFlush(handle);
  }

  /**
   * Reads and hashes the file as it grows until `writerDone` settles (either way), then to its
   * end: once the writer has exited, the file holds everything it wrote. Stops early when
   * `signal` aborts; the caller then discards the file.
   */
  async follow(writerDone: Promise<unknown>, signal: AbortSignal): Promise<void> {
    let writerExited = false;
    const exited = writerDone.then(
      () => {
        writerExited = true;
      },
      () => {
        writerExited = true;
      },
    );
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    while (!signal.aborted) {
      // Noted before reading: a read that starts after the writer exited sees its last byte.
      const wasExited = writerExited;
      let read: number;
      do {
        ({ bytesRead: read } = await this.handle.read(buffer, 0, READ_BYTES, this.bytes));
        this.hash.update(buffer.subarray(0, read));
        this.bytes += read;
        this.flush.grew(this.bytes);
      } while (read === READ_BYTES && !signal.aborted);
      if (wasExited) return;
      await Promise.race([delay(POLL_MS, undefined, { signal }).catch(() => undefined), exited]);
    }
  }

  /** Waits for a background flush, then fsyncs the file (data and size). */
  async sync(): Promise<void> {
    await this.flush.sync();
  }

  /** Closes the file once no background flush is running; safe to call more than once. */
  async close(): Promise<void> {
    await this.flush.settled();
    await this.handle.close().catch(() => undefined);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
