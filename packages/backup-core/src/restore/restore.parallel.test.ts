import fs from 'node:fs/promises';
import { type TestDatabase, withDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorKeyFromBytes } from '../crypto/index.js';
import { runDump } from '../dump/dump.js';
import { findBackup } from '../storage/catalog.js';
import {
  connectionOf,
  createTestDatabase,
  dumpTarget,
  type Workspace,
  workspace,
} from '../test-support/fixtures.js';
import { databaseDigest, loadSampleDatabase } from '../test-support/sample-database.js';
import { restoreBackup } from './restore.js';
import { parallelRestorePays } from './seekable-archive.js';

const key = operatorKeyFromBytes(Buffer.alloc(32, 7));
let ws: Workspace;
let source: TestDatabase;
let sourceDigest: Record<string, string>;

beforeAll(async () => {
  source = await createTestDatabase('parsrc');
  await loadSampleDatabase(source.url);
  sourceDigest = await databaseDigest(source.url);
  ws = await workspace();
});

afterAll(async () => {
  await ws?.remove();
});

describe('pg_restore --jobs from a seekable archive', () => {
  it.each([
    ['zstd, encrypted (decoded to a temporary file)', 'zstd', true],
    ['gzip', 'gzip', false],
    ['uncompressed, unencrypted (the backup file itself)', 'none', false],
  ] as const)(
    '%s: restores the same data with 2 jobs and leaves no temporary file',
    async (_label, compression, encrypted) => {
      const { manifest } = await runDump({
        target: dumpTarget(source, compression),
        backupDir: ws.backupDir,
        logDir: ws.logDir,
        ...(encrypted ? { encryptionKey: key } : {}),
      });
      const tempDir = await fs.mkdtemp(`${ws.root}/tmp-`);
      const database = `par_${compression}_${encrypted ? 'enc' : 'plain'}`;
      const result = await restoreBackup({
        backupDir: ws.backupDir,
        logDir: ws.logDir,
        id: manifest.id,
        to: { ...connectionOf(source.url), database },
        keyring: [key],
        jobs: 2,
        parallelMinBytes: 0,
        tempDir,
      });
      expect(result.jobs).toBe(2);
      expect(await databaseDigest(withDatabase(source.url, database))).toEqual(sourceDigest);
      expect(await fs.readdir(tempDir)).toEqual([]);
      // The backup itself is untouched.
      expect((await findBackup(ws.backupDir, manifest.id)).manifest.sha256).toBe(manifest.sha256);
    },
  );

  it('streams with one job when the data is below the threshold, or jobs is 1', async () => {
    const { manifest } = await runDump({
      target: dumpTarget(source),
      backupDir: ws.backupDir,
      logDir: ws.logDir,
    });
    expect(parallelRestorePays(manifest, 4)).toBe(false); // far below 64 MiB
    expect(parallelRestorePays(manifest, 1, 0)).toBe(false);
    expect(parallelRestorePays(manifest, 2, 0)).toBe(true);
    const result = await restoreBackup({
      backupDir: ws.backupDir,
      logDir: ws.logDir,
      id: manifest.id,
      to: { ...connectionOf(source.url), database: 'par_streamed' },
      jobs: 4,
    });
    expect(result.jobs).toBe(1);
    expect(await databaseDigest(withDatabase(source.url, 'par_streamed'))).toEqual(sourceDigest);
  });
});
