import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { operatorKeyFromBytes } from '../crypto/index.js';
import type { Compression } from '../manifest.js';
import { restoreBackup } from '../restore/restore.js';
import { listBackups } from '../storage/catalog.js';
import {
  connectionOf,
  createTestDatabase,
  dumpTarget,
  type Workspace,
  workspace,
} from '../test-support/fixtures.js';
import { databaseDigest, loadSampleDatabase } from '../test-support/sample-database.js';
import { verifyBackup } from '../verify/verify.js';
import { runDump } from './dump.js';

const key = operatorKeyFromBytes(Buffer.alloc(32, 7));
let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.remove();
  ws = undefined;
});

const cases: Array<{ compression: Compression; encrypted: boolean }> = [
  { compression: 'zstd', encrypted: false },
  { compression: 'zstd', encrypted: true },
  { compression: 'gzip', encrypted: false },
  { compression: 'none', encrypted: true },
];

describe.each(cases)(
  'dump, verify at restore level, restore ($compression, encrypted: $encrypted)',
  ({ compression, encrypted }) => {
    it('restores a database identical table by table, with sequences and large objects', async () => {
      ws = await workspace();
      const source = await createTestDatabase('src');
      await loadSampleDatabase(source.url);
      const progress: string[] = [];

      const dumped = await runDump({
        target: dumpTarget(source, compression),
        backupDir: ws.backupDir,
        logDir: ws.logDir,
        ...(encrypted ? { encryptionKey: key } : {}),
        onProgress: (p) => progress.push(p.phase),
      });
      const { manifest } = dumped;
      expect(manifest.status).toBe('complete');
      expect(manifest.compression).toBe(compression);
      expect(manifest.encryption?.keyId ?? null).toBe(encrypted ? key.id : null);
      expect(manifest.tables.find((t) => t.schema === 'sales' && t.name === 'orders')?.rows).toBe(5000);
      expect(manifest.tables.find((t) => t.name === 'Clients été ☀')?.rows).toBe(3);
      expect(manifest.tables.find((t) => t.name === 'animals')?.rows).toBe(1);
      expect(manifest.tableCount).toBe(manifest.tables.length);
      expect(progress[0]).toBe('connecting');
      expect(progress.at(-1)).toBe('done');

      // Private files, no leftovers, manifest beside the file.
      const dir = path.dirname(dumped.filePath);
      expect((await fs.stat(dumped.filePath)).mode & 0o777).toBe(0o600);
      expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
      expect((await fs.readdir(dir)).sort()).toEqual(
        [path.basename(dumped.filePath), `${manifest.id}.manifest.json`].sort(),
      );
      expect((await fs.stat(dumped.filePath)).size).toBe(manifest.sizeBytes);

      // The run log ends with the status line.
      const [log] = await fs.readdir(ws.logDir);
      const logText = await fs.readFile(path.join(ws.logDir, log!), 'utf8');
      expect(logText.trim().split('\n').at(-1)).toMatch(/STATUS: SUCCESS$/);

      const verified = await verifyBackup({
        backupDir: ws.backupDir,
        id: manifest.id,
        level: 'restore',
        keyring: [key],
        scratchServer: connectionOf(source.url),
      });
      expect(verified.verification).toMatchObject({ level: 'restore', ok: true });
      const listed = await listBackups(ws.backupDir);
      expect(listed.entries[0]?.manifest.verifications).toHaveLength(1);

      const restoredName = `${source.name}_restored`;
      const result = await restoreBackup({
        backupDir: ws.backupDir,
        logDir: ws.logDir,
        id: manifest.id,
        to: { ...connectionOf(source.url), database: restoredName },
        keyring: [key],
      });
      expect(result.replacedExisting).toBe(false);
      const restoredUrl = source.url.replace(`/${source.name}`, `/${restoredName}`);
      expect(await databaseDigest(restoredUrl)).toEqual(await databaseDigest(source.url));
    });
  },
);

describe('dump idempotence', () => {
  it('returns the existing backup when the same backup id is dumped again (a re-run job)', async () => {
    ws = await workspace();
    const source = await createTestDatabase('idem');
    await source.query('CREATE TABLE t AS SELECT g FROM generate_series(1, 100) g');
    const id = '20261125T020000000Z-app-abcdef';
    const first = await runDump({
      target: dumpTarget(source),
      backupDir: ws.backupDir,
      logDir: ws.logDir,
      backupId: id,
    });
    const second = await runDump({
      target: dumpTarget(source),
      backupDir: ws.backupDir,
      logDir: ws.logDir,
      backupId: id,
    });
    expect(first.reused).toBe(false);
    expect(second.reused).toBe(true);
    expect(second.manifest.sha256).toBe(first.manifest.sha256);
    expect((await listBackups(ws.backupDir)).entries).toHaveLength(1);
  });
});
