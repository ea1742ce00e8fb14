import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Manifest, newBackupId, type Verification, writeManifest } from '@pgbackup/backup-core';

export interface ManifestSpec {
  target: string;
  createdAt: string;
  /** `verified`: a passing read check; `failed`: a failing one; `unverified`: none. Default verified. */
  verification?: 'verified' | 'failed' | 'unverified';
  suspicious?: string;
  sizeBytes?: number;
  durationMs?: number;
  jobId?: string;
  keyId?: string;
}

/** Writes a manifest that the real catalog code reads back (no dump file: listing needs none). */
export async function writeTestManifest(backupDir: string, spec: ManifestSpec): Promise<Manifest> {
  const createdAt = new Date(spec.createdAt);
  const suffix = createHash('sha256').update(`${spec.target}${spec.createdAt}`).digest('hex').slice(0, 6);
  const id = newBackupId(spec.target, createdAt, suffix);
  const durationMs = spec.durationMs ?? 95_000;
  const checkedAt = new Date(createdAt.getTime() + durationMs + 30_000).toISOString();
  const verifications: Verification[] =
    spec.verification === 'unverified'
      ? []
      : spec.verification === 'failed'
        ? [
            {
              level: 'read',
              ok: false,
              at: checkedAt,
              durationMs: 800,
              errorCode: 'CHECKSUM_MISMATCH',
              message: 'sha256 differs',
            },
          ]
        : [{ level: 'read', ok: true, at: checkedAt, durationMs: 800 }];
  const manifest: Manifest = {
    formatVersion: 1,
    id,
    target: spec.target,
    database: spec.target,
    createdAt: createdAt.toISOString(),
    completedAt: new Date(createdAt.getTime() + durationMs).toISOString(),
    durationMs,
    file: `${id}.dump.zst${spec.keyId ? '.enc' : ''}`,
    format: 'custom',
    compression: 'zstd',
    encryption: spec.keyId ? { algorithm: 'aes-256-gcm-chunked-v1', keyId: spec.keyId } : null,
    sizeBytes: spec.sizeBytes ?? 1_572_864,
    sha256: 'a'.repeat(64),
    pgDumpVersion: '15.8',
    serverVersion: '15.8',
    tableCount: 3,
    tables: [],
    status: spec.suspicious ? 'suspicious' : 'complete',
    ...(spec.suspicious ? { suspicionReason: spec.suspicious } : {}),
    verifications,
    ...(spec.jobId ? { jobId: spec.jobId } : {}),
    hostname: 'test-host',
  };
  // The worker creates a target's directory before its first dump; so does this stand-in.
  await mkdir(path.join(backupDir, spec.target), { recursive: true });
  await writeManifest(backupDir, manifest);
  return manifest;
}
