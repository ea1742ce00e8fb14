import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import { Writable } from 'node:stream';
import { BackgroundFlush, FLUSH_EVERY_BYTES } from './background-flush.js';

/**
 * The backup's partial file as a stream that has the kernel write it out as it grows
 * (BackgroundFlush): the path of a dump whose bytes pass through Node (encrypted, or not
 * compressed). A compressed dump's compressor writes its file itself (file-follower.ts).
 */
export class FlushingFile extends Writable {
  private written = 0;
  private readonly flush: BackgroundFlush;

  private constructor(
    readonly handle: FileHandle,
    flushEvery: number,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.flush = new BackgroundFlush(handle, flushEvery);
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
    this.flush.grew(this.written);
  }

  /** Waits for a background flush, then fsyncs: the file's data and size are on disk. */
  async sync(): Promise<void> {
    await this.flush.sync();
  }

  /** Closes the file (after any background flush); safe to call more than once. */
  async closeFile(): Promise<void> {
    await this.flush.settled();
    await this.handle.close().catch(() => undefined);
  }
}
