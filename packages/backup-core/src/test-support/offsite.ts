import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { S3Server } from '@pgbackup/testkit';
import type { DestinationConfig } from '../config/types.js';
import { newBackupId } from '../ids.js';
import type { Manifest } from '../manifest.js';
import { type CatalogEntry, writeManifest } from '../storage/catalog.js';
import { backupFileName, targetDirectory } from '../storage/layout.js';

/** A destination on a harness S3 server, with explicit credentials so nothing reaches a metadata service. */
export function destinationOn(
  server: S3Server,
  overrides: Partial<DestinationConfig> = {},
): DestinationConfig {
  return {
    name: 'offsite',
    endpoint: server.endpoint,
    region: 'us-east-1',
    bucket: 'backups',
    prefix: 'pg/prod',
    forcePathStyle: true,
    checksums: 'WHEN_REQUIRED',
    maxParts: 10_000,
    retention: { daily: 7, weekly: 4, monthly: 12, yearly: 0, minVerified: 3 },
    credentials: { accessKeyId: S3Server.accessKeyId, secretAccessKey: S3Server.secretAccessKey },
    ...overrides,
  };
}

/**
 * A backup of `sizeBytes` random bytes with a valid manifest: not a pg_dump archive, for the
 * tests that are about moving bytes (part sizes, interrupted uploads), where a dump that size
 * would cost more than the test.
 */
export async function syntheticBackup(
  backupDir: string,
  sizeBytes: number,
  target = 'app',
  created = new Date(),
): Promise<CatalogEntry> {
  const id = newBackupId(target, created);
  const file = backupFileName(id, 'none', false);
  const dir = targetDirectory(backupDir, target);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const bytes = randomBytes(sizeBytes);
  await fs.writeFile(path.join(dir, file), bytes, { mode: 0o600 });
  const now = created.toISOString();
  const manifest: Manifest = {
    formatVersion: 1,
    id,
    target,
    database: target,
    createdAt: now,
    completedAt: now,
    durationMs: 1,
    file,
    format: 'custom',
    compression: 'none',
    encryption: null,
    sizeBytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    pgDumpVersion: '17',
    serverVersion: '17',
    tableCount: 0,
    tables: [],
    status: 'complete',
    verifications: [],
    hostname: 'test',
  };
  return writeManifest(backupDir, manifest);
}
