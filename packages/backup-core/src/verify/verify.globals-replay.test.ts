import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PostgresServer } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpGlobals } from '../globals/dump-globals.js';
import { findServerBinaries } from '../postgres/scratch-cluster.js';
import { connectionOf, type Workspace, workspace } from '../test-support/fixtures.js';
import { withClient } from '../test-support/sample-database.js';
import { lastVerification, tamperUndetectably } from '../test-support/tamper.js';
import { verifyBackup } from './verify.js';

// The restore level of a globals backup replays it into a throwaway cluster of its own (initdb,
// pg_ctl, psql ON_ERROR_STOP) and checks every role and membership is there; the cluster is
// removed whatever happens.

let source: PostgresServer;
let ws: Workspace;
let scratchTmp: string;
let savedTmp: string | undefined;
let id: string;

beforeAll(async () => {
  source = await PostgresServer.start();
  ws = await workspace();
  // The throwaway clusters go under os.tmpdir(): a directory of this test's, to see them removed.
  scratchTmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-replay-test-'));
  // As root the server runs as another user, who must be able to reach its directory.
  await fs.chmod(scratchTmp, 0o711);
  savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = scratchTmp;
  // A tablespace needs a directory the server owns.
  const location = path.join(source.dir, 'ts_archive');
  await fs.mkdir(location);
  const { uid, gid } = await fs.stat(source.dir);
  await fs.chown(location, uid, gid);
  await withClient(source.url('postgres'), async (client) => {
    await client.query(`
      CREATE ROLE readers NOLOGIN;
      CREATE ROLE app LOGIN PASSWORD 'app-secret' IN ROLE readers;
      CREATE ROLE "odd ""role"" é" LOGIN;
      GRANT readers TO "odd ""role"" é" WITH ADMIN OPTION;
      ALTER ROLE app SET statement_timeout = '5s';
    `);
    await client.query(`CREATE TABLESPACE archive OWNER app LOCATION '${location}'`);
  });
  id = (
    await dumpGlobals({
      server: 'prod',
      connection: connectionOf(source.url('postgres')),
      backupDir: ws.backupDir,
    })
  ).manifest.id;
}, 120_000);

afterAll(async () => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  await withClient(source.url('postgres'), (client) =>
    client.query('DROP TABLESPACE IF EXISTS archive'),
  ).catch(() => undefined);
  await ws?.remove();
  await source?.destroy();
  await fs.rm(scratchTmp, { recursive: true, force: true });
});

describe('verify --level restore of a globals backup', () => {
  it('replays it into a throwaway cluster, records the restore level, notes the tablespace, and removes the cluster', async () => {
    const result = await verifyBackup({ backupDir: ws.backupDir, id, level: 'restore' });
    expect(result.verification).toMatchObject({ level: 'restore', ok: true });
    expect(result.verification.notes).toEqual([
      expect.stringMatching(/^tablespace archive replayed at a scratch location .*ts_archive/),
    ]);
    expect(await lastVerification(ws.backupDir, id)).toMatchObject({ level: 'restore', ok: true });
    expect(await fs.readdir(scratchTmp)).toEqual([]);
  });

  it('SQL that does not replay is a failed verification, and the cluster is removed all the same', async () => {
    const broken = (
      await dumpGlobals({
        server: 'prod',
        connection: connectionOf(source.url('postgres')),
        backupDir: ws.backupDir,
      })
    ).manifest.id;
    await tamperUndetectably(ws.backupDir, broken, async (file) => {
      const sql = await fs.readFile(file, 'utf8');
      await fs.writeFile(file, sql.replace('CREATE ROLE readers;', 'CREATE ROLE readers WITH NONSENSE;'));
    });
    await expect(
      verifyBackup({ backupDir: ws.backupDir, id: broken, level: 'restore' }),
    ).rejects.toMatchObject({
      code: 'RESTORE_FAILED',
      message: expect.stringContaining('NONSENSE'),
    });
    expect(await lastVerification(ws.backupDir, broken)).toMatchObject({
      level: 'restore',
      ok: false,
      errorCode: 'RESTORE_FAILED',
    });
    expect(await fs.readdir(scratchTmp)).toEqual([]);
  });

  it('without the server binaries: TOOL_MISSING naming the binary, never a weaker level', async () => {
    const root = await fs.mkdtemp(path.join(scratchTmp, 'lib-'));
    await fs.mkdir(path.join(root, '15', 'bin'), { recursive: true });
    await fs.writeFile(path.join(root, '15', 'bin', 'pg_ctl'), '#!/bin/sh\n', { mode: 0o755 });
    expect(() => findServerBinaries(root)).toThrow(
      expect.objectContaining({
        code: 'TOOL_MISSING',
        message: expect.stringMatching(/^initdb was not found/),
      }),
    );
    await fs.rm(root, { recursive: true });
  });
});
