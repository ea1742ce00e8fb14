import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DestinationConfig, Manifest } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import { writeVerifiedBackup } from './verified-backup.js';

/**
 * A verified backup written on "another host" (a directory of its own, removed afterwards) and
 * copied to `destination` by the real upload: what a worker with local retention 0 leaves, a
 * backup that exists only in the bucket.
 */
export async function backupInBucketOnly(
  destination: DestinationConfig,
  target: string,
  createdAt: Date,
): Promise<Manifest> {
  const elsewhere = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-other-host-'));
  try {
    const entry = await writeVerifiedBackup(elsewhere, { target, createdAt, hostname: 'other-host' });
    const store = new RemoteStore(destination);
    try {
      await store.upload(entry);
    } finally {
      store.close();
    }
    return entry.manifest;
  } finally {
    await fs.rm(elsewhere, { recursive: true, force: true });
  }
}
