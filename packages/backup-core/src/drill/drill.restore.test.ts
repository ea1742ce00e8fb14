import fs from 'node:fs/promises';
import path from 'node:path';
import { drillServerSettings, freePort, PostgresServer, type TestDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDump } from '../dump/dump.js';
import { type BackupErrorCode, isBackupError } from '../errors.js';
import { isVerified } from '../manifest.js';
import type { PgConnection } from '../postgres/connection.js';
import { findBackup } from '../storage/catalog.js';
import { drillSourceDatabase } from '../test-support/drill-source.js';
import { connectionOf, dumpTarget, type Workspace, workspace } from '../test-support/fixtures.js';
import { withClient } from '../test-support/sample-database.js';
import { editManifest, flipBit } from '../test-support/tamper.js';
import { verifyBackup } from '../verify/verify.js';
import { runDrill } from './drill.js';

// The drill server is a second private cluster: a drill restores onto a server of its own, never
// the target's, and only there can "no scratch database is left" be checked without racing others.
// It is configured as the runbook advises for a drill server (no replicas, wal_level minimal), the
// level at which pg_restore --jobs loads tables without WAL; the globals drills run at the default.
let drillServer: PostgresServer;
let drillConnection: PgConnection;
let source: TestDatabase;
const workspaces: Workspace[] = [];

beforeAll(async () => {
  drillServer = await PostgresServer.start({ settings: drillServerSettings });
  drillConnection = connectionOf(drillServer.url('postgres'));
  source = await drillSourceDatabase('drill_src');
}, 120_000);

afterAll(async () => {
  for (const ws of workspaces) await ws.remove();
  await drillServer?.destroy();
});

/** A workspace holding one backup of the source, verified at `read`. */
async function verifiedBackup(): Promise<{ ws: Workspace; id: string }> {
  const ws = await workspace();
  workspaces.push(ws);
  const { manifest } = await runDump({
    target: dumpTarget(source),
    backupDir: ws.backupDir,
    logDir: ws.logDir,
  });
  await verifyBackup({ backupDir: ws.backupDir, id: manifest.id, level: 'read' });
  return { ws, id: manifest.id };
}

async function drillDatabasesLeft(): Promise<string[]> {
  return withClient(drillServer.url('postgres'), async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'pgbackup\\_drill\\_%'`,
    );
    return rows.map((row) => row.datname);
  });
}

describe('runDrill', () => {
  it('restores the newest verified backup on the drill server and records RTO, RPO, bytes and tables', async () => {
    const { ws, id } = await verifiedBackup();
    const phases: string[] = [];
    const result = await runDrill({
      backupDir: ws.backupDir,
      target: 'app',
      server: drillConnection,
      targets: [{ name: 'app', connection: connectionOf(source.url) }],
      onPhase: (phase) => phases.push(phase),
    });
    expect(result.backupId).toBe(id);
    expect(phases).toEqual(['restoring', 'recording']);
    const { manifest } = await findBackup(ws.backupDir, id);
    expect(manifest.drills).toHaveLength(1);
    const drill = manifest.drills![0]!;
    expect(drill).toMatchObject({
      ok: true,
      bytes: manifest.sizeBytes,
      tables: 2,
      rows: 2300,
      server: `127.0.0.1:${drillServer.port}`,
      walLevel: 'minimal',
    });
    expect(drill.errorCode).toBeUndefined();
    expect(Date.parse(drill.at)).toBeGreaterThanOrEqual(Date.parse(drill.startedAt));
    expect(drill.restoreMs).toBe(Date.parse(drill.at) - Date.parse(drill.startedAt));
    expect(drill.backupAgeMs).toBe(Date.parse(drill.startedAt) - Date.parse(manifest.createdAt));
    // A successful drill adds no verification: the backup stays as verified as it was.
    expect(manifest.verifications).toHaveLength(1);
    expect(isVerified(manifest)).toBe(true);
    expect(await drillDatabasesLeft()).toEqual([]);
  });

  it('records a corrupt backup as a failed drill and a failed verification, and drops the scratch database', async () => {
    const { ws, id } = await verifiedBackup();
    // One bit flipped after the backup was verified (bit rot on the backup disk).
    const entry = await findBackup(ws.backupDir, id);
    await flipBit(entry.filePath);
    const error = await runDrill({
      backupDir: ws.backupDir,
      target: 'app',
      server: drillConnection,
    }).catch((e: unknown) => e);
    expect(isBackupError(error, 'CHECKSUM_MISMATCH')).toBe(true);
    const { manifest } = await findBackup(ws.backupDir, id);
    expect(manifest.drills).toHaveLength(1);
    expect(manifest.drills![0]).toMatchObject({ ok: false, errorCode: 'CHECKSUM_MISMATCH' });
    expect(manifest.verifications.at(-1)).toMatchObject({
      level: 'restore',
      ok: false,
      errorCode: 'CHECKSUM_MISMATCH',
    });
    expect(isVerified(manifest)).toBe(false);
    expect(await drillDatabasesLeft()).toEqual([]);
  });

  it('fails as an environment failure when the drill server is down, and leaves the backup verified', async () => {
    const { ws, id } = await verifiedBackup();
    const before = (await findBackup(ws.backupDir, id)).manifest;
    const down = { ...drillConnection, port: await freePort() };
    const error = await runDrill({ backupDir: ws.backupDir, target: 'app', server: down }).catch(
      (e: unknown) => e,
    );
    expect(isBackupError(error, 'PG_UNREACHABLE')).toBe(true);
    expect((error as Error).message).toMatch(/could not run.*not of the backup/);
    expect((error as { retryable: boolean }).retryable).toBe(true);
    const after = (await findBackup(ws.backupDir, id)).manifest;
    expect(after).toEqual(before);
    expect(isVerified(after)).toBe(true);
  });

  it('refuses a drill server that is a configured target’s own server unless allowed', async () => {
    const { ws, id } = await verifiedBackup();
    const targetServer = { ...connectionOf(source.url), database: 'postgres' };
    const targets = [{ name: 'app', connection: connectionOf(source.url) }];
    const refused = await runDrill({
      backupDir: ws.backupDir,
      target: 'app',
      server: { ...targetServer, host: 'localhost' },
      targets,
    }).catch((e: unknown) => e);
    expect(isBackupError(refused, 'DRILL_SERVER_REFUSED')).toBe(true);
    expect((refused as Error).message).toContain('BACKUP_DRILL_ALLOW_TARGET_SERVER');
    expect((await findBackup(ws.backupDir, id)).manifest.drills).toBeUndefined();

    const allowed = await runDrill({
      backupDir: ws.backupDir,
      target: 'app',
      server: targetServer,
      targets,
      allowTargetServer: true,
    });
    expect(allowed.drill.ok).toBe(true);
  });

  it('restores with pg_restore --jobs from a decoded temporary file, as a real restore of a large backup does', async () => {
    const { ws, id } = await verifiedBackup();
    const tempDir = await fs.mkdtemp(path.join(ws.root, 'tmp-'));
    const result = await runDrill({
      backupDir: ws.backupDir,
      target: 'app',
      server: drillConnection,
      jobs: 2,
      parallelMinBytes: 0,
      tempDir,
    });
    expect(result.drill).toMatchObject({ ok: true, jobs: 2, tables: 2, rows: 2300, walLevel: 'minimal' });
    expect((await findBackup(ws.backupDir, id)).manifest.drills?.at(-1)?.jobs).toBe(2);
    expect(await fs.readdir(tempDir)).toEqual([]);
    expect(await drillDatabasesLeft()).toEqual([]);
  });

  /** A drill with 2 jobs from a temporary file that fails with `code`: recorded, nothing left behind. */
  async function expectParallelDrillFailure(ws: Workspace, id: string, code: BackupErrorCode): Promise<void> {
    const tempDir = await fs.mkdtemp(path.join(ws.root, 'tmp-'));
    const error = await runDrill({
      backupDir: ws.backupDir,
      target: 'app',
      server: drillConnection,
      jobs: 2,
      parallelMinBytes: 0,
      tempDir,
    }).catch((e: unknown) => e);
    expect(isBackupError(error, code)).toBe(true);
    const { manifest } = await findBackup(ws.backupDir, id);
    expect(manifest.drills?.at(-1)).toMatchObject({ ok: false, errorCode: code, jobs: 2 });
    expect(isVerified(manifest)).toBe(false);
    expect(await fs.readdir(tempDir)).toEqual([]);
    expect(await drillDatabasesLeft()).toEqual([]);
  }

  it('fails a parallel drill whose restored rows differ from the manifest, records it, and cleans up', async () => {
    const { ws, id } = await verifiedBackup();
    await editManifest(ws.backupDir, id, (manifest) => ({
      ...manifest,
      tables: manifest.tables.map((table) =>
        table.name === 'accounts' ? { ...table, rows: table.rows + 1 } : table,
      ),
    }));
    await expectParallelDrillFailure(ws, id, 'ROW_COUNT_MISMATCH');
  });

  it('fails a parallel drill of a corrupt backup in the pass that decodes it, records it, and cleans up', async () => {
    const { ws, id } = await verifiedBackup();
    // The checksum is checked while the archive is decoded to the temporary file (no pass of its own).
    await flipBit((await findBackup(ws.backupDir, id)).filePath);
    await expectParallelDrillFailure(ws, id, 'CHECKSUM_MISMATCH');
  });

  it('fails with BACKUP_NOT_FOUND when the target has no verified backup', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    await runDump({ target: dumpTarget(source), backupDir: ws.backupDir, logDir: ws.logDir });
    const error = await runDrill({ backupDir: ws.backupDir, target: 'app', server: drillConnection }).catch(
      (e: unknown) => e,
    );
    expect(isBackupError(error, 'BACKUP_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('no verified backup to drill');
  });
});
