#!/usr/bin/env node
/**
 * Diagnostic stage for the shell pipeline: `... | zstd | node durable-writer.js FILE FLUSH_MB`.
 * It does with zstd's output what the worker's dump does, and nothing else: a SHA-256 tap and a
 * file write stream in a stream pipeline, then fsync. With FLUSH_MB > 0 it also has the kernel
 * write the file out every FLUSH_MB megabytes while the dump runs (fdatasync in the background),
 * so the final fsync has little left to wait for: the change this measures for backup-core.
 */
import { createHash } from 'node:crypto';
import { closeSync, createWriteStream, fdatasync, fsyncSync, openSync } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const [file, flushMbText = '0'] = process.argv.slice(2);
if (!file) throw new Error('usage: durable-writer FILE [FLUSH_MB]');
const flushEvery = Number(flushMbText) * 1024 * 1024;

const fd = openSync(file, 'wx', 0o600);
const output = createWriteStream('', { fd, autoClose: false });
const hash = createHash('sha256');
let written = 0;
let sinceFlush = 0;
let flushing = false;

const tap = new Transform({
  transform(chunk: Buffer, _encoding, callback: TransformCallback) {
    hash.update(chunk);
    written += chunk.length;
    sinceFlush += chunk.length;
    if (flushEvery > 0 && sinceFlush >= flushEvery && !flushing) {
      sinceFlush = 0;
      flushing = true;
      fdatasync(fd, () => {
        flushing = false;
      });
    }
    callback(null, chunk);
  },
});

await pipeline(process.stdin, tap, output);
fsyncSync(fd);
closeSync(fd);
process.stdout.write(`${written} ${hash.digest('hex')}\n`);
