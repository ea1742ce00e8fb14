import fs from 'node:fs/promises';
import { PostgresServer } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorKeyFromBytes } from '../crypto/index.js';
import { runDump } from '../dump/dump.js';
import { isBackupError } from '../errors.js';
import { verificationState } from '../manifest.js';
import type { PgConnection } from '../postgres/connection.js';
import { executePrune, planPrune } from '../prune/index.js';
import { deleteBackup, findBackup, listBackups } from '../storage/catalog.js';
import { connectionOf, type Workspace, workspace } from '../test-support/fixtures.js';
import { withClient } from '../test-support/sample-database.js';
import { verifyBackup } from './verify.js';

// "Could not check" is not "bad backup": a re-verification that fails because of this host or the
// scratch server must leave the backup verified, or retention deletes a good backup.

const key = operatorKeyFromBytes(Buffer.alloc(32, 7));
let server: PostgresServer;
let admin: PgConnection;
let ws: Workspace;
/** Older, verified: the backup whose re-checks fail for reasons outside it. */
let older: string;

async function dumpAndVerify(): Promise<string> {
  const { manifest } = await runDump({
    target: {
      name: 'app',
      connection: connectionOf(server.url('src')),
      compression: 'zstd',
      suspiciousRatio: 0,
    },
    backupDir: ws.backupDir,
    logDir: ws.logDir,
    encryptionKey: key,
  });
  await verifyBackup({ backupDir: ws.backupDir, id: manifest.id, level: 'read', keyring: [key] });
  return manifest.id;
}

async function stateOf(id: string) {
  return verificationState((await findBackup(ws.backupDir, id)).manifest);
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isBackupError(error), String(error)).toBe(true);
  return { code: (error as { code: string }).code, message: (error as Error).message };
}

beforeAll(async () => {
  server = await PostgresServer.start();
  admin = connectionOf(server.url('postgres'));
  ws = await workspace();
  await withClient(server.url('postgres'), (client) => client.query('CREATE DATABASE src'));
  await withClient(server.url('src'), (client) =>
    client.query(`CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 200);`),
  );
  older = await dumpAndVerify();
  // A newer verified backup: with the older one no longer verified, retention would delete it.
  await dumpAndVerify();
});

afterAll(async () => {
  await ws?.remove();
  await server?.destroy();
});

describe('a verification that cannot be made leaves the verified state alone', () => {
  it('with no key to decrypt it: VERIFY_INCONCLUSIVE, still verified', async () => {
    const before = await fs.readFile((await findBackup(ws.backupDir, older)).manifestPath, 'utf8');
    const result = await failure(
      verifyBackup({ backupDir: ws.backupDir, id: older, level: 'read', keyring: [] }),
    );
    expect(result.code).toBe('VERIFY_INCONCLUSIVE');
    expect(result.message).toContain('ENCRYPTION_KEY_MISSING');
    expect(await stateOf(older)).toMatchObject({ state: 'verified', level: 'read' });
    expect(await fs.readFile((await findBackup(ws.backupDir, older)).manifestPath, 'utf8')).toBe(before);
  });

  it('with only another key: VERIFY_INCONCLUSIVE, still verified', async () => {
    const other = operatorKeyFromBytes(Buffer.alloc(32, 8));
    const result = await failure(
      verifyBackup({ backupDir: ws.backupDir, id: older, level: 'checksum', keyring: [other] }),
    );
    expect(result.code).toBe('VERIFY_INCONCLUSIVE');
    expect(result.message).toContain('DECRYPT_WRONG_KEY');
    expect(await stateOf(older)).toMatchObject({ state: 'verified' });
  });

  it('with the scratch server stopped: VERIFY_INCONCLUSIVE at the restore level, still verified', async () => {
    await server.stop();
    try {
      const result = await failure(
        verifyBackup({
          backupDir: ws.backupDir,
          id: older,
          level: 'restore',
          keyring: [key],
          scratchServer: admin,
        }),
      );
      expect(result.code).toBe('VERIFY_INCONCLUSIVE');
      expect(result.message).toContain('PG_UNREACHABLE');
    } finally {
      await server.restart();
    }
    expect(await stateOf(older)).toMatchObject({ state: 'verified', level: 'read' });
  });

  it('prune keeps the backup whose re-checks could not be made', async () => {
    const listing = await listBackups(ws.backupDir, { target: 'app' });
    const plan = planPrune({
      target: 'app',
      manifests: listing.entries.map((entry) => entry.manifest),
      policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0, minVerified: 2 },
      now: new Date(),
      timeZone: 'UTC',
    });
    await executePrune(
      plan,
      { deleteBackup: (t, id) => deleteBackup(ws.backupDir, t, id) },
      { dryRun: false },
    );
    expect(plan.decisions.find((d) => d.id === older)?.action).toBe('keep');
    await expect(findBackup(ws.backupDir, older)).resolves.toBeDefined();
  });

  it('a real defect is still recorded as a failed verification', async () => {
    const entry = await findBackup(ws.backupDir, older);
    const copy = await workspace();
    try {
      await fs.cp(ws.backupDir, copy.backupDir, { recursive: true });
      const file = (await findBackup(copy.backupDir, older)).filePath;
      await fs.truncate(file, 100);
      const result = await failure(
        verifyBackup({ backupDir: copy.backupDir, id: older, level: 'checksum', keyring: [key] }),
      );
      expect(result.code).toBe('SIZE_MISMATCH');
      expect(verificationState((await findBackup(copy.backupDir, older)).manifest)).toMatchObject({
        state: 'failed',
        errorCode: 'SIZE_MISMATCH',
      });
    } finally {
      await copy.remove();
    }
    expect(entry.manifest.id).toBe(older);
  });
});
