/**
 * Input bytes waiting to form a chunk, kept as the buffers they arrived in. Taking a chunk hands out
 * views of those buffers, so bytes are never copied before the cipher reads them, and appending stays
 * O(1) however far behind the consumer is.
 */
export class ByteQueue {
  #buffers: Buffer[] = [];
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(buffer: Buffer): void {
    if (buffer.length > 0) {
      this.#buffers.push(buffer);
      this.#length += buffer.length;
    }
  }

  /** Removes the first `count` bytes (at most `length`) and returns them as views, in order. */
  take(count: number): Buffer[] {
    const out: Buffer[] = [];
    let remaining = Math.min(count, this.#length);
    this.#length -= remaining;
    while (remaining > 0) {
      const first = this.#buffers[this.#head]!;
      if (first.length <= remaining) {
        out.push(first);
        remaining -= first.length;
        this.#head++;
      } else {
        out.push(first.subarray(0, remaining));
        this.#buffers[this.#head] = first.subarray(remaining);
        remaining = 0;
      }
    }
    // Drop consumed slots now and then rather than shifting the array on every take.
    if (this.#head === this.#buffers.length) {
      this.#buffers = [];
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#buffers.length) {
      this.#buffers = this.#buffers.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }
}

/** Splits views holding a chunk into its ciphertext views and its trailing tag (copied: 16 bytes). */
export function splitTag(pieces: Buffer[], tagLength: number): { body: Buffer[]; tag: Buffer } {
  const tag = Buffer.allocUnsafe(tagLength);
  let missing = tagLength;
  const body = pieces.slice();
  while (missing > 0) {
    const last = body.pop()!;
    if (last.length <= missing) {
      last.copy(tag, missing - last.length);
      missing -= last.length;
    } else {
      last.copy(tag, 0, last.length - missing);
      body.push(last.subarray(0, last.length - missing));
      missing = 0;
    }
  }
  return { body, tag };
}
