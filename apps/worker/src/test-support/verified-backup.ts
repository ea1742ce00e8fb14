import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Manifest, newBackupId, writeManifest } from '@pgbackup/backup-core';

export interface VerifiedBackupOptions {
  target: string;
  createdAt: Date;
  /** How many random bytes the "dump" holds. Default 4096. */
  bytes?: number;
  /** The host the manifest says wrote it ("another host" in multi-host tests). Default `test`. */
  hostname?: string;
}

/**
 * A verified backup of random bytes, written as a dump would leave it (file, then manifest), with
 * no copy recorded: for tests of retention, copies and catalogs that need backups of given ages
 * without running pg_dump for each. Returns the catalog entry writeManifest gives.
 */
export async function writeVerifiedBackup(backupDir: string, options: VerifiedBackupOptions) {
  const { target, createdAt } = options;
  const id = newBackupId(target, createdAt);
  const file = `${id}.dump`;
  const bytes = randomBytes(options.bytes ?? 4096);
  await fs.mkdir(path.join(backupDir, target), { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(backupDir, target, file), bytes, { mode: 0o600 });
  const at = createdAt.toISOString();
  const manifest: Manifest = {
    formatVersion: 1,
    id,
    target,
    database: target,
    createdAt: at,
    completedAt: at,
    durationMs: 1,
    file,
    format: 'custom',
    compression: 'none',
    encryption: null,
    sizeBytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    pgDumpVersion: '17',
    serverVersion: '17',
    tableCount: 0,
    tables: [],
    status: 'complete',
    verifications: [{ level: 'read', ok: true, at, durationMs: 1 }],
    hostname: options.hostname ?? 'test',
  };
  return writeManifest(backupDir, manifest);
}
