import fs from 'node:fs/promises';
import path from 'node:path';
import type { TestDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorKeyFromBytes } from '../crypto/index.js';
import { runDump } from '../dump/dump.js';
import { findBackup } from '../storage/catalog.js';
import { createTestDatabase, dumpTarget, type Workspace, workspace } from '../test-support/fixtures.js';
import { flipBit } from '../test-support/tamper.js';
import { decodeToFile } from './seekable-archive.js';

const key = operatorKeyFromBytes(Buffer.alloc(32, 4));
let ws: Workspace;
let source: TestDatabase;

beforeAll(async () => {
  source = await createTestDatabase('decodefile');
  await source.query(
    'CREATE TABLE notes AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, 20000) g',
  );
  ws = await workspace();
});

afterAll(async () => {
  await ws?.remove();
});

const cases = [
  ['zstd (the decompressor writes the file)', 'zstd', false],
  ['gzip (the decompressor writes the file)', 'gzip', false],
  ['zstd, encrypted (the decompressor writes the file)', 'zstd', true],
  ['uncompressed, encrypted (dd writes the file)', 'none', true],
] as const;

async function backup(compression: 'zstd' | 'gzip' | 'none', encrypted: boolean) {
  const { manifest } = await runDump({
    target: dumpTarget(source, compression),
    backupDir: ws.backupDir,
    logDir: ws.logDir,
    ...(encrypted ? { encryptionKey: key } : {}),
  });
  return findBackup(ws.backupDir, manifest.id);
}

describe('decodeToFile', () => {
  it.each(cases)('%s: writes the archive pg_restore reads', async (_label, compression, encrypted) => {
    const entry = await backup(compression, encrypted);
    const file = path.join(ws.root, `${entry.manifest.id}.decoded`);
    await decodeToFile(entry, file, { keyring: [key] });
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    // A pg_dump custom-format archive starts with PGDMP.
    const head = Buffer.alloc(5);
    const handle = await fs.open(file);
    await handle.read(head, 0, 5, 0);
    await handle.close();
    expect(head.toString()).toBe('PGDMP');
  });

  it.each(cases)(
    '%s: a full disk is DISK_FULL, not a corrupt backup; a changed backup is CHECKSUM_MISMATCH',
    async (_label, compression, encrypted) => {
      const entry = await backup(compression, encrypted);
      // Every write to /dev/full fails with ENOSPC.
      await expect(decodeToFile(entry, '/dev/full', { keyring: [key] })).rejects.toMatchObject({
        code: 'DISK_FULL',
      });
      await flipBit(entry.filePath);
      await expect(
        decodeToFile(entry, path.join(ws.root, `${entry.manifest.id}.changed`), { keyring: [key] }),
      ).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    },
  );
});
