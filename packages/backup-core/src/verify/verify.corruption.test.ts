import fs from 'node:fs/promises';
import { PostgresServer } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OperatorKey, operatorKeyFromBytes } from '../crypto/index.js';
import { runDump } from '../dump/dump.js';
import { type BackupErrorCode, isBackupError } from '../errors.js';
import { type Compression, type VerifyLevel, verifyLevels } from '../manifest.js';
import type { PgConnection } from '../postgres/connection.js';
import { findBackup } from '../storage/catalog.js';
import { connectionOf, type Workspace, workspace } from '../test-support/fixtures.js';
import { withClient } from '../test-support/sample-database.js';
import {
  editManifest,
  flipBit,
  garbageThenCutZstdFrame,
  lastVerification,
  tamperUndetectably,
} from '../test-support/tamper.js';
import { verifyBackup } from './verify.js';

const key = operatorKeyFromBytes(Buffer.alloc(32, 1));

// A private server: the restore level's scratch databases have random names, and only on a server
// no other test file uses can "none is left" be checked without racing other verifications.
let server: PostgresServer;
let admin: PgConnection;
const workspaces: Workspace[] = [];

async function newWorkspace(): Promise<Workspace> {
  const ws = await workspace();
  workspaces.push(ws);
  return ws;
}

beforeAll(async () => {
  server = await PostgresServer.start();
  admin = connectionOf(server.url('postgres'));
  await withClient(server.url('postgres'), (client) => client.query('CREATE DATABASE src'));
  await withClient(server.url('src'), (client) =>
    client.query(`
      CREATE TABLE public.accounts (id int PRIMARY KEY, note text NOT NULL);
      INSERT INTO public.accounts SELECT g, md5(g::text) FROM generate_series(1, 3000) g;
      CREATE TABLE public.audit (at timestamptz NOT NULL, what text);
      INSERT INTO public.audit SELECT '2026-01-01'::timestamptz + g * interval '1 s', repeat('x', g % 40) FROM generate_series(1, 500) g;
    `),
  );
});

afterAll(async () => {
  for (const ws of workspaces) await ws.remove();
  await server?.destroy();
});

interface Pristine {
  backupDir: string;
  id: string;
}

async function dumpPristine(compression: Compression, encryptionKey?: OperatorKey): Promise<Pristine> {
  const ws = await newWorkspace();
  const { manifest } = await runDump({
    target: { name: 'app', connection: connectionOf(server.url('src')), compression, suspiciousRatio: 0 },
    backupDir: ws.backupDir,
    logDir: ws.logDir,
    ...(encryptionKey ? { encryptionKey } : {}),
  });
  return { backupDir: ws.backupDir, id: manifest.id };
}

/** A private copy of the pristine backup, for one test to damage. */
async function copyOf(pristine: Pristine): Promise<Pristine> {
  const ws = await newWorkspace();
  await fs.cp(pristine.backupDir, ws.backupDir, { recursive: true });
  return { backupDir: ws.backupDir, id: pristine.id };
}

async function scratchDatabasesLeft(): Promise<string[]> {
  return withClient(server.url('postgres'), async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'pgbackup\\_verify\\_%'`,
    );
    return rows.map((row) => row.datname);
  });
}

interface Corruption {
  name: string;
  damage: (backup: Pristine) => Promise<void>;
  keyring?: readonly OperatorKey[];
  /** Expected code per level; undefined: the level passes. */
  expected: (level: VerifyLevel) => BackupErrorCode | undefined;
}

const everywhere = (code: BackupErrorCode) => () => code;

const fileOf = async (backup: Pristine) => (await findBackup(backup.backupDir, backup.id)).filePath;

const commonCorruptions: Corruption[] = [
  {
    name: 'a file cut in half',
    damage: async (b) => {
      const file = await fileOf(b);
      await fs.truncate(file, Math.floor((await fs.stat(file)).size / 2));
    },
    expected: everywhere('SIZE_MISMATCH'),
  },
  {
    name: 'one flipped bit in the middle',
    damage: async (b) => flipBit(await fileOf(b)),
    expected: everywhere('CHECKSUM_MISMATCH'),
  },
  {
    name: 'an empty file',
    damage: async (b) => fs.truncate(await fileOf(b), 0),
    expected: everywhere('BACKUP_FILE_EMPTY'),
  },
  {
    name: 'a missing file',
    damage: async (b) => fs.rm(await fileOf(b)),
    expected: everywhere('BACKUP_FILE_MISSING'),
  },
  {
    name: 'a manifest naming a table the archive lacks',
    damage: async (b) => {
      await editManifest(b.backupDir, b.id, (m) => ({
        ...m,
        tables: [...m.tables, { schema: 'public', name: 'ghost', rows: 1, bytes: 8192 }],
        tableCount: m.tableCount + 1,
      }));
    },
    expected: (level) => (level === 'checksum' ? undefined : 'ARCHIVE_CONTENT_MISMATCH'),
  },
  {
    name: 'a manifest with a wrong row count',
    damage: async (b) => {
      await editManifest(b.backupDir, b.id, (m) => ({
        ...m,
        tables: m.tables.map((t) => (t.name === 'accounts' ? { ...t, rows: t.rows + 1 } : t)),
      }));
    },
    expected: (level) => (level === 'restore' ? 'ROW_COUNT_MISMATCH' : undefined),
  },
];

const variants: Array<{
  label: string;
  compression: Compression;
  encrypted: boolean;
  corruptions: Corruption[];
}> = [
  {
    label: 'zstd, not encrypted',
    compression: 'zstd',
    encrypted: false,
    corruptions: [
      ...commonCorruptions,
      {
        name: 'bytes changed with checksum and size rewritten to match',
        damage: (b) => tamperUndetectably(b.backupDir, b.id),
        expected: everywhere('COMPRESSED_STREAM_CORRUPT'),
      },
      {
        // pg_restore stops at the garbage and zstd dies of SIGPIPE before it reaches the cut frame.
        name: 'a zstd stream decoding to garbage before its corrupt frame, checksum rewritten',
        damage: (b) => tamperUndetectably(b.backupDir, b.id, garbageThenCutZstdFrame),
        expected: everywhere('COMPRESSED_STREAM_CORRUPT'),
      },
    ],
  },
  {
    label: 'zstd, encrypted',
    compression: 'zstd',
    encrypted: true,
    corruptions: [
      ...commonCorruptions,
      {
        name: 'bytes changed with checksum and size rewritten to match',
        damage: (b) => tamperUndetectably(b.backupDir, b.id),
        expected: everywhere('DECRYPT_TAMPERED'),
      },
    ],
  },
  {
    label: 'gzip, not encrypted',
    compression: 'gzip',
    encrypted: false,
    corruptions: commonCorruptions.filter((c) => c.name === 'one flipped bit in the middle'),
  },
  {
    label: 'no compression, not encrypted',
    compression: 'none',
    encrypted: false,
    corruptions: commonCorruptions.filter((c) => c.name === 'one flipped bit in the middle'),
  },
];

describe.each(variants)('verify of a damaged backup ($label)', ({ compression, encrypted, corruptions }) => {
  let pristine: Pristine;
  beforeAll(async () => {
    pristine = await dumpPristine(compression, encrypted ? key : undefined);
  });

  const cases = corruptions.flatMap((corruption) => verifyLevels.map((level) => ({ corruption, level })));

  it.each(cases)('$corruption.name, at level $level', async ({ corruption, level }) => {
    const backup = await copyOf(pristine);
    await corruption.damage(backup);
    const expected = corruption.expected(level);

    const run = verifyBackup({
      backupDir: backup.backupDir,
      id: backup.id,
      level,
      keyring: corruption.keyring ?? [key],
      scratchServer: admin,
    });

    if (expected === undefined) {
      await expect(run).resolves.toMatchObject({ verification: { level, ok: true } });
      expect(await lastVerification(backup.backupDir, backup.id)).toMatchObject({ level, ok: true });
    } else {
      const error = await run.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isBackupError(error), String(error)).toBe(true);
      expect({ code: (error as { code: string }).code, message: (error as Error).message }).toMatchObject({
        code: expected,
      });
      expect(await lastVerification(backup.backupDir, backup.id)).toMatchObject({
        level,
        ok: false,
        errorCode: expected,
      });
    }
    expect(await scratchDatabasesLeft()).toEqual([]);
  });
});
