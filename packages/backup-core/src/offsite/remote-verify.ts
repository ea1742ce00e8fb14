import fs from 'node:fs/promises';
import type { OperatorKey } from '../crypto/index.js';
import { type BackupError, provesBackupDefect } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Manifest, Verification, VerifyLevel } from '../manifest.js';
import type { PgConnection } from '../postgres/connection.js';
import { tmpDownloadPath } from '../storage/tmp-area.js';
import { verifyBackup } from '../verify/verify.js';
import type { RemoteStore } from './remote-store.js';

export interface RemoteVerifyOptions {
  /** The local backup directory: the download waits in its tmp area (storage/tmp-area.ts). */
  backupDir: string;
  id: string;
  level: VerifyLevel;
  keyring?: readonly OperatorKey[];
  /** For the `restore` level: the server of the scratch database. */
  scratchServer?: PgConnection;
  signal?: AbortSignal;
  logger?: Logger;
  onPhase?: (phase: VerifyLevel | 'download') => void;
}

export interface RemoteVerifyResult {
  /** The manifest object as written, with this verification last. */
  manifest: Manifest;
  verification: Verification;
}

/**
 * Verifies the copy of a backup in a destination: downloads its data object (size and SHA-256
 * against the manifest object), then runs the engine's checks on the download at `level`, and
 * records the result in the manifest object, so that the destination's catalog, and its
 * retention, know which copies are good. As for a local backup, only a proven defect is recorded
 * as a failure (a changed or missing object, a corrupt archive); a check that could not be made
 * (the endpoint down, a missing key) throws and records nothing. The local manifest is not
 * touched: it describes the local file.
 */
export async function verifyRemoteBackup(
  store: RemoteStore,
  options: RemoteVerifyOptions,
): Promise<RemoteVerifyResult> {
  const started = Date.now();
  const remote = await store.find(options.id);
  const file = await tmpDownloadPath(options.backupDir, 'verify');
  let failure: unknown;
  try {
    options.onPhase?.('download');
    await store.downloadTo(remote, file, options.signal);
    await verifyBackup({
      backupDir: options.backupDir,
      id: options.id,
      level: options.level,
      entry: { manifest: remote.manifest, manifestPath: remote.manifestKey, filePath: file },
      ...(options.keyring ? { keyring: options.keyring } : {}),
      ...(options.scratchServer ? { scratchServer: options.scratchServer } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.onPhase ? { onPhase: options.onPhase } : {}),
    });
  } catch (error) {
    failure = error;
  } finally {
    await fs.rm(file, { force: true });
  }
  if (failure !== undefined && !provesBackupDefect(failure)) throw failure;
  const verification: Verification = {
    level: options.level,
    ok: failure === undefined,
    at: new Date().toISOString(),
    durationMs: Date.now() - started,
    ...(failure === undefined
      ? {}
      : {
          errorCode: (failure as BackupError).code,
          message: (failure as Error).message.slice(0, 2000),
        }),
  };
  const manifest = await store.recordVerification(options.id, verification);
  if (failure !== undefined) throw failure;
  return { manifest, verification };
}
