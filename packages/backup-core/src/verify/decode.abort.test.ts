import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../manifest.js';
import type { CatalogEntry } from '../storage/catalog.js';
import { type Workspace, workspace } from '../test-support/fixtures.js';
import { decodeBackup } from './decode.js';

// decodeBackup hands an unencrypted zstd backup's open file straight to `zstd -d` and hashes it
// beside (decode.ts, decodeFromFile). These check what that path must still do without a
// database: hash every byte, hand the whole archive to the consumer, and on abort kill the
// children rather than wait for them.

let ws: Workspace;
let entry: CatalogEntry;
let content: Buffer;

beforeAll(async () => {
  ws = await workspace();
  await fs.mkdir(ws.backupDir, { recursive: true });
  // Incompressible, so the decoded stream is far larger than a pipe's buffer.
  content = randomBytes(4 * 1024 * 1024);
  const filePath = path.join(ws.backupDir, 'archive.dump.zst');
  await fs.writeFile(
    filePath,
    execFileSync('zstd', ['-1', '-q', '-c'], { input: content, maxBuffer: 64 * 1024 * 1024 }),
  );
  const stored = await fs.readFile(filePath);
  entry = {
    filePath,
    manifestPath: `${filePath}.manifest.json`,
    manifest: {
      id: '20261202T000000000Z-app-abcdef',
      compression: 'zstd',
      encryption: null,
      sizeBytes: stored.length,
      sha256: createHash('sha256').update(stored).digest('hex'),
    } as Manifest,
  };
});

afterAll(async () => {
  await ws?.remove();
});

/** Live child processes of this process running `program`. */
function childrenNamed(program: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && comm === program) found.push(Number(name));
    } catch {
      // the process ended while being read
    }
  }
  return found;
}

describe('decodeBackup from the open file (zstd, not encrypted)', () => {
  it('hashes the whole stored file and hands the consumer the whole decoded archive', async () => {
    const outcome = await decodeBackup(entry, {
      keyring: [],
      consumer: {
        name: 'sha256sum',
        program: 'sha256sum',
        args: [],
        env: process.env,
        failureCode: 'ARCHIVE_UNREADABLE',
        stdout: 'pipe',
      },
    });
    expect(outcome.decodeError).toBeUndefined();
    expect(outcome.consumerError).toBeUndefined();
    expect(outcome.readToEnd).toBe(true);
    expect(outcome.bytes).toBe(entry.manifest.sizeBytes);
    expect(outcome.sha256).toBe(entry.manifest.sha256);
    expect(outcome.output.split(' ')[0]).toBe(createHash('sha256').update(content).digest('hex'));
  });

  it('reports a consumer that stops reading early as not read to its end', async () => {
    const outcome = await decodeBackup(entry, {
      keyring: [],
      consumer: {
        name: 'head',
        program: 'head',
        args: ['-c', '10'],
        env: process.env,
        failureCode: 'ARCHIVE_UNREADABLE',
        stdout: 'ignore',
      },
    });
    expect(outcome.consumerError).toBeUndefined();
    expect(outcome.decodeError).toBeUndefined();
    expect(outcome.readToEnd).toBe(false);
  });

  it('on abort, kills the decompressor and the consumer instead of waiting for them', async () => {
    const controller = new AbortController();
    // A consumer that never reads: zstd blocks on the full pipe, sleep would run for 10 minutes.
    const decoding = decodeBackup(entry, {
      keyring: [],
      consumer: {
        name: 'sleep',
        program: 'sleep',
        args: ['600'],
        env: process.env,
        failureCode: 'ARCHIVE_UNREADABLE',
        stdout: 'ignore',
      },
      signal: controller.signal,
    });
    const settled = decoding.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    for (let i = 0; i < 200 && childrenNamed('sleep').length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(childrenNamed('sleep').length).toBeGreaterThan(0);
    controller.abort('stop');
    expect(await settled).toBe('stop');
    for (let i = 0; i < 200 && childrenNamed('sleep').length + childrenNamed('zstd').length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(childrenNamed('sleep')).toEqual([]);
    expect(childrenNamed('zstd')).toEqual([]);
  }, 60_000);
});
