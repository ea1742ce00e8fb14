import fs from 'node:fs/promises';
import path from 'node:path';
import { PostgresServer, S3Server, type TestDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DestinationConfig } from '../config/types.js';
import { operatorKeyFromBytes } from '../crypto/index.js';
import { runDump } from '../dump/dump.js';
import { isBackupError } from '../errors.js';
import { isVerified } from '../manifest.js';
import { chooseDrillBackup, remoteDrillSource } from '../offsite/remote-drill.js';
import { RemoteStore } from '../offsite/remote-store.js';
import type { PgConnection } from '../postgres/connection.js';
import { findBackup, listBackups } from '../storage/catalog.js';
import { tmpAreaOf } from '../storage/tmp-area.js';
import { drillSourceDatabase } from '../test-support/drill-source.js';
import { connectionOf, dumpTarget, type Workspace, workspace } from '../test-support/fixtures.js';
import { destinationOn } from '../test-support/offsite.js';
import { withClient } from '../test-support/sample-database.js';
import { flipBit } from '../test-support/tamper.js';
import { verifyBackup } from '../verify/verify.js';
import { runDrill } from './drill.js';

// A target with local retention 0 keeps its backups only in its destinations: a drill downloads
// the backup from the bucket (real s3rver), restores it on a drill server of its own (a second
// private cluster) and records the result in the manifest object; the download never outlives it.
const key = operatorKeyFromBytes(Buffer.alloc(32, 5));
let s3: S3Server;
let drillServer: PostgresServer;
let drillConnection: PgConnection;
let source: TestDatabase;
const workspaces: Workspace[] = [];
const stores: RemoteStore[] = [];

beforeAll(async () => {
  s3 = await S3Server.start({ buckets: ['backups'] });
  drillServer = await PostgresServer.start();
  drillConnection = connectionOf(drillServer.url('postgres'));
  source = await drillSourceDatabase('drill_bucket_src');
}, 120_000);

afterAll(async () => {
  for (const store of stores) store.close();
  for (const ws of workspaces) await ws.remove();
  await drillServer?.destroy();
  await s3?.destroy();
});

function storeFor(destination: DestinationConfig): RemoteStore {
  const store = new RemoteStore(destination);
  stores.push(store);
  return store;
}

/**
 * An encrypted backup of the source, verified, copied to a destination of its own prefix, and
 * then deleted from the backup directory, as the local prune does at retention 0.
 */
async function bucketOnlyBackup(prefix: string) {
  const ws = await workspace();
  workspaces.push(ws);
  const destination = destinationOn(s3, { prefix });
  const { manifest } = await runDump({
    target: dumpTarget(source),
    backupDir: ws.backupDir,
    logDir: ws.logDir,
    encryptionKey: key,
  });
  await verifyBackup({ backupDir: ws.backupDir, id: manifest.id, level: 'read', keyring: [key] });
  const store = storeFor(destination);
  await store.upload(await findBackup(ws.backupDir, manifest.id));
  // Still local: drilled from the file, as always.
  expect(await chooseDrillBackup(ws.backupDir, [destination], 'app')).toEqual({
    local: true,
    id: manifest.id,
  });
  await fs.rm(path.join(ws.backupDir, 'app'), { recursive: true, force: true });
  return { ws, id: manifest.id, destination, store };
}

async function tmpAreaFiles(backupDir: string): Promise<string[]> {
  return fs.readdir(tmpAreaOf(backupDir)).catch(() => []);
}

async function drillDatabasesLeft(): Promise<string[]> {
  return withClient(drillServer.url('postgres'), async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'pgbackup\\_drill\\_%'`,
    );
    return rows.map((row) => row.datname);
  });
}

describe('a drill of a backup kept only in a bucket', () => {
  it('downloads it into the tmp area, restores it on the drill server, records the drill in the manifest object and removes the download', async () => {
    const { ws, id, destination, store } = await bucketOnlyBackup('drill-ok');
    const choice = await chooseDrillBackup(ws.backupDir, [destination], 'app');
    expect(choice).toMatchObject({ local: false, id, destination: { name: 'offsite' } });
    if (choice.local) throw new Error('expected the bucket');

    const phases: string[] = [];
    const result = await runDrill({
      backupDir: ws.backupDir,
      target: 'app',
      server: drillConnection,
      keyring: [key],
      source: remoteDrillSource(store, choice.remote, ws.backupDir),
      onPhase: (phase) => phases.push(phase),
    });
    expect(phases).toEqual(['download', 'restoring', 'recording']);
    expect(result.backupId).toBe(id);
    expect(result.drill).toMatchObject({
      ok: true,
      tables: 2,
      rows: 2300,
      destination: 'offsite',
      server: `127.0.0.1:${drillServer.port}`,
    });
    expect(result.drill.downloadMs).toBeLessThanOrEqual(result.drill.restoreMs);

    // Recorded where the backup lives: its manifest object, read back from the bucket.
    const { manifest } = await store.find(id);
    expect(manifest.drills).toEqual([result.drill]);
    // A successful drill adds no verification: the copy stays as verified as it was.
    expect(manifest.verifications).toHaveLength(1);
    expect(isVerified(manifest)).toBe(true);
    // Nothing joined the local catalog, nothing is left in the tmp area or on the drill server.
    expect((await listBackups(ws.backupDir)).entries).toEqual([]);
    expect(await tmpAreaFiles(ws.backupDir)).toEqual([]);
    expect(await drillDatabasesLeft()).toEqual([]);
  });

  it('of a damaged object: a failed drill and a failed restore verification in the manifest object, the download removed', async () => {
    const { ws, id, destination, store } = await bucketOnlyBackup('drill-bad');
    const choice = await chooseDrillBackup(ws.backupDir, [destination], 'app');
    if (choice.local) throw new Error('expected the bucket');
    // Bit rot at the provider, after the copy was confirmed: same size, other bytes.
    await flipBit(s3.objectFile('backups', choice.remote.dataKey));

    const error = await runDrill({
      backupDir: ws.backupDir,
      target: 'app',
      server: drillConnection,
      keyring: [key],
      source: remoteDrillSource(store, choice.remote, ws.backupDir),
    }).catch((e: unknown) => e);
    expect(isBackupError(error, 'CHECKSUM_MISMATCH')).toBe(true);
    expect((error as Error).message).toContain('destination offsite');

    const { manifest } = await store.find(id);
    expect(manifest.drills).toHaveLength(1);
    expect(manifest.drills![0]).toMatchObject({
      ok: false,
      errorCode: 'CHECKSUM_MISMATCH',
      destination: 'offsite',
    });
    expect(manifest.verifications.at(-1)).toMatchObject({
      level: 'restore',
      ok: false,
      errorCode: 'CHECKSUM_MISMATCH',
    });
    expect(isVerified(manifest)).toBe(false);
    expect(await tmpAreaFiles(ws.backupDir)).toEqual([]);
    expect(await drillDatabasesLeft()).toEqual([]);
    // The catalog no longer offers it: no verified backup to drill.
    const none = await chooseDrillBackup(ws.backupDir, [destination], 'app').catch((e: unknown) => e);
    expect(isBackupError(none, 'BACKUP_NOT_FOUND')).toBe(true);
  });

  it('with the S3 server down: retryable, nothing recorded, nothing left in the tmp area', async () => {
    const { ws, id, destination, store } = await bucketOnlyBackup('drill-down');
    const choice = await chooseDrillBackup(ws.backupDir, [destination], 'app');
    if (choice.local) throw new Error('expected the bucket');
    const before = (await store.find(id)).manifest;
    await s3.kill();
    try {
      // No choice made from half a catalog: the bucket that did not answer may hold the newest.
      const unchosen = await chooseDrillBackup(ws.backupDir, [destination], 'app').catch((e: unknown) => e);
      expect(isBackupError(unchosen, 'S3_UNREACHABLE')).toBe(true);
      expect((unchosen as { retryable: boolean }).retryable).toBe(true);

      const error = await runDrill({
        backupDir: ws.backupDir,
        target: 'app',
        server: drillConnection,
        keyring: [key],
        source: remoteDrillSource(store, choice.remote, ws.backupDir),
      }).catch((e: unknown) => e);
      expect(isBackupError(error, 'S3_UNREACHABLE')).toBe(true);
      expect((error as Error).message).toMatch(/could not run.*not of the backup/);
      expect((error as { retryable: boolean }).retryable).toBe(true);
      expect(await tmpAreaFiles(ws.backupDir)).toEqual([]);
    } finally {
      await s3.restart();
    }
    expect((await store.find(id)).manifest).toEqual(before);
  });
});
