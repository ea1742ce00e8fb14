import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream, ENCRYPTION_ALGORITHM, type OperatorKey } from '../crypto/index.js';
import { ByteTap } from '../dump/byte-tap.js';
import { BackupError } from '../errors.js';
import { newBackupId } from '../ids.js';
import type { Manifest } from '../manifest.js';
import {
  classifyPostgresError,
  connect,
  libpqEnvironment,
  type PgConnection,
  postgresError,
} from '../postgres/connection.js';
import { isPlainDatabaseName } from '../postgres/database-name.js';
import { findPgTool } from '../postgres/tools.js';
import { startChild } from '../process/child.js';
import type { RunLog } from '../run-log.js';
import { findBackup, writeManifest } from '../storage/catalog.js';
import { ensurePrivateDirectory, fsyncDirectory, writeError } from '../storage/durable-fs.js';
import { backupFileName, partialPathFor, targetDirectory } from '../storage/layout.js';
import { checkGlobalsText } from './globals-sql.js';

/** The target name of a server's globals backup. Never a discovered database's (discovered-name.ts). */
export function globalsTargetName(server: string): string {
  return `${server}.globals`;
}

export interface GlobalsDumpOptions {
  /** The server target's name; the backup's target is `<server>.globals`. */
  server: string;
  connection: PgConnection;
  backupDir: string;
  encryptionKey?: OperatorKey;
  /** A fixed id makes the dump idempotent, as runDump's. */
  backupId?: string;
  jobId?: string;
  /**
   * Leave role passwords out (`--no-role-passwords`), for managed services that forbid reading
   * pg_authid. Unset: tried with passwords, and without them (with a warning) when pg_authid is
   * denied. Default false.
   */
  noRolePasswords?: boolean;
  signal?: AbortSignal;
  runLog?: RunLog;
  /** Called with the warning when the passwords had to be left out. */
  onWarning?: (message: string) => void;
}

export interface GlobalsDumpResult {
  manifest: Manifest;
  filePath: string;
  reused: boolean;
}

/** Far above any real cluster's roles and tablespaces; the SQL is held in memory to be checked. */
const MAX_GLOBALS_BYTES = 256 * 1024 * 1024;

/**
 * Stores `pg_dumpall --globals-only` of a server as a backup of its own, with the dump's
 * guarantees: the SQL is checked whole (pg_dumpall's closing line present), optionally encrypted,
 * checksummed, written to a partial file, fsynced, renamed, and the manifest written last.
 * Uncompressed: a cluster's globals are kilobytes.
 */
export async function dumpGlobals(options: GlobalsDumpOptions): Promise<GlobalsDumpResult> {
  const target = globalsTargetName(options.server);
  const startedAt = new Date();
  const id = options.backupId ?? newBackupId(target, startedAt);
  const existing = await findBackup(options.backupDir, id).catch(() => undefined);
  if (existing) return { manifest: existing.manifest, filePath: existing.filePath, reused: true };

  const server = await serverVersion(options.connection);
  const tool = await findPgTool('pg_dumpall', server.major);
  let noRolePasswords = options.noRolePasswords ?? false;
  let sql: Buffer;
  try {
    sql = await runDumpall(tool.path, options.connection, noRolePasswords, options.signal);
  } catch (error) {
    // Managed services (RDS, Cloud SQL, Azure) deny pg_authid even to their admin role.
    if (
      noRolePasswords ||
      !/permission denied for (table|relation) pg_authid/i.test((error as Error).message)
    )
      throw error;
    const warning = `pg_dumpall could not read pg_authid (permission denied): the globals of ${options.server} are dumped with --no-role-passwords, so restored roles have no password`;
    options.onWarning?.(warning);
    await options.runLog?.line(`warning: ${warning}`);
    noRolePasswords = true;
    sql = await runDumpall(tool.path, options.connection, true, options.signal);
  }
  checkGlobalsText(sql.toString('utf8'), id);

  const dir = targetDirectory(options.backupDir, target);
  await ensurePrivateDirectory(options.backupDir);
  await ensurePrivateDirectory(dir);
  const fileName = backupFileName(id, 'none', options.encryptionKey !== undefined);
  const finalPath = path.join(dir, fileName);
  const partialPath = partialPathFor(finalPath);
  const tap = new ByteTap();
  try {
    const output = createWriteStream(partialPath, { flags: 'wx', mode: 0o600 });
    const stages = options.encryptionKey
      ? [Readable.from([sql]), createEncryptStream({ key: options.encryptionKey }), tap, output]
      : [Readable.from([sql]), tap, output];
    await pipeline(stages as [Readable, ...NodeJS.WritableStream[]]);
    const handle = await fs.open(partialPath, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(partialPath, finalPath);
    await fsyncDirectory(dir);
  } catch (error) {
    await fs.rm(partialPath, { force: true });
    throw error instanceof BackupError ? error : writeError(error, partialPath);
  }
  const completedAt = new Date();
  const manifest: Manifest = {
    formatVersion: 1,
    id,
    target,
    database: options.connection.database,
    createdAt: startedAt.toISOString(),
    completedAt: completedAt.toISOString(),
    durationMs: completedAt.getTime() - startedAt.getTime(),
    file: fileName,
    format: 'globals',
    ...(noRolePasswords ? { noRolePasswords: true } : {}),
    compression: 'none',
    encryption: options.encryptionKey
      ? { algorithm: ENCRYPTION_ALGORITHM, keyId: options.encryptionKey.id }
      : null,
    sizeBytes: tap.bytes,
    sha256: tap.digest(),
    pgDumpVersion: tool.version,
    serverVersion: server.version,
    tableCount: 0,
    tables: [],
    status: 'complete',
    verifications: [],
    ...(options.jobId ? { jobId: options.jobId } : {}),
    hostname: os.hostname(),
  };
  const entry = await writeManifest(options.backupDir, manifest);
  await options.runLog?.line(
    `globals backup ${id} written: ${entry.filePath} (${manifest.sizeBytes} bytes, sha256 ${manifest.sha256})`,
  );
  return { manifest, filePath: entry.filePath, reused: false };
}

async function serverVersion(connection: PgConnection): Promise<{ version: string; major: number }> {
  const client = await connect(connection);
  try {
    const { rows } = await client.query<{ version: string; num: string }>(
      "SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num",
    );
    return { version: rows[0]!.version, major: Math.floor(Number(rows[0]!.num) / 10_000) };
  } catch (error) {
    throw postgresError(error, 'could not read the server version');
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function runDumpall(
  program: string,
  connection: PgConnection,
  noRolePasswords: boolean,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  // pg_dumpall connects to `-l` (default postgres, then template1). libpq would read a name
  // holding `=` as connection settings, so only a plain name is passed.
  const args = ['--globals-only', '--no-password'];
  if (isPlainDatabaseName(connection.database)) args.push(`--database=${connection.database}`);
  if (noRolePasswords) args.push('--no-role-passwords');
  const child = startChild('pg_dumpall', program, args, {
    env: libpqEnvironment(connection),
    stdio: ['ignore', 'pipe', 'pipe'],
    failureCode: 'DUMP_FAILED',
    classify: classifyPostgresError,
  });
  const onAbort = () => child.terminate(500);
  signal?.addEventListener('abort', onAbort, { once: true });
  const chunks: Buffer[] = [];
  let bytes = 0;
  child.process.stdout!.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > MAX_GLOBALS_BYTES) child.terminate(0);
    else chunks.push(chunk);
  });
  try {
    await child.finished;
  } catch (error) {
    if (signal?.aborted) throw new BackupError('ABORTED', `globals dump aborted: ${String(signal.reason)}`);
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (bytes > MAX_GLOBALS_BYTES)
    throw new BackupError(
      'DUMP_FAILED',
      `pg_dumpall --globals-only wrote more than ${MAX_GLOBALS_BYTES} bytes`,
    );
  return Buffer.concat(chunks);
}
