import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DestinationConfig } from '../config/types.js';
import { BackupError } from '../errors.js';
import { parseBackupId } from '../ids.js';
import type { Copy, Manifest, Verification } from '../manifest.js';
import { type CatalogEntry, parseManifest, writeManifest } from '../storage/catalog.js';
import { ensurePrivateDirectory, FILE_MODE, fsyncDirectory } from '../storage/durable-fs.js';
import { partialPathFor, targetDirectory } from '../storage/layout.js';
import { uploadFile } from './file-upload.js';
import { pickPartSize } from './part-size.js';
import { dataKey, isManifestKey, manifestKey, targetPrefix } from './remote-layout.js';
import { createS3Client } from './s3-client.js';
import { classifyS3Error, describeDestination } from './s3-errors.js';

/** A backup as a destination's manifest object describes it. */
export interface RemoteEntry {
  manifest: Manifest;
  destination: string;
  manifestKey: string;
  dataKey: string;
}

export interface RemoteListing {
  /** Newest first. */
  entries: RemoteEntry[];
  /** Manifest objects that could not be read: listed, never silently skipped. */
  problems: Array<{ key: string; message: string }>;
}

export interface UploadProgress {
  loadedBytes: number;
  totalBytes: number;
  part: number | undefined;
}

export interface CopyResult {
  copy: Copy;
  partSize: number;
  parts: number;
  durationMs: number;
}

/** Where a destination keeps a backup's manifest object and data object. */
export function remoteEntryOf(destination: DestinationConfig, manifest: Manifest): RemoteEntry {
  return {
    manifest,
    destination: destination.name,
    manifestKey: manifestKey(destination, manifest.id),
    dataKey: dataKey(destination, manifest.target, manifest.file),
  };
}

const MANIFEST_READ_CONCURRENCY = 8;
/** Metadata keys (S3 lower-cases them): fixed at CreateMultipartUpload, checked by HeadObject. */
const META_SHA256 = 'sha256';
const META_SIZE = 'size-bytes';

/**
 * One destination: upload (data object, confirmed, then the manifest object), list, download and
 * delete. Every SDK error leaves as a BackupError naming the destination (s3-errors.ts).
 */
export class RemoteStore {
  readonly client: S3Client;

  constructor(
    readonly destination: DestinationConfig,
    client?: S3Client,
  ) {
    this.client = client ?? createS3Client(destination);
  }

  close(): void {
    this.client.destroy();
  }

  private fail(error: unknown, action: string): BackupError {
    return classifyS3Error(error, this.destination, action);
  }

  /** An SDK error as a BackupError naming this destination (for operations outside this class). */
  classify(error: unknown, action: string): BackupError {
    return this.fail(error, action);
  }

  /** Fails fast, before a long upload, on a missing bucket or refused credentials. */
  async checkBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.destination.bucket }));
    } catch (error) {
      throw this.fail(error, 'check the bucket');
    }
  }

  /**
   * Copies a local backup: the data object (multipart, part size from the file's size and the
   * destination's part limit, SHA-256 and size as metadata, parts read straight from the file:
   * file-upload.ts), confirmed by HeadObject, and only then the manifest object with the copy
   * recorded. A failed upload is aborted (AbortMultipartUpload), so no part and no manifest object
   * is left visible.
   */
  async upload(
    entry: CatalogEntry,
    options: {
      signal?: AbortSignal;
      onProgress?: (progress: UploadProgress) => void;
      /** Parts in flight at once (default 4, lib-storage's queueSize). */
      queueSize?: number;
    } = {},
  ): Promise<CopyResult> {
    const started = Date.now();
    const { manifest } = entry;
    const key = dataKey(this.destination, manifest.target, manifest.file);
    const partSize = pickPartSize(manifest.sizeBytes, this.destination.maxParts);
    await this.checkBucket();
    options.signal?.throwIfAborted();
    let parts: number;
    try {
      ({ parts } = await uploadFile({
        client: this.client,
        bucket: this.destination.bucket,
        key,
        file: entry.filePath,
        sizeBytes: manifest.sizeBytes,
        sha256: manifest.sha256,
        partSize,
        concurrency: options.queueSize ?? 4,
        checksums: this.destination.checksums,
        params: {
          ContentType: 'application/octet-stream',
          Metadata: {
            [META_SHA256]: manifest.sha256,
            [META_SIZE]: String(manifest.sizeBytes),
            'backup-id': manifest.id,
          },
          ...(this.destination.storageClass === undefined
            ? {}
            : { StorageClass: this.destination.storageClass as never }),
          ...(this.destination.serverSideEncryption === undefined
            ? {}
            : { ServerSideEncryption: this.destination.serverSideEncryption }),
          ...(this.destination.kmsKeyId === undefined ? {} : { SSEKMSKeyId: this.destination.kmsKeyId }),
        },
        ...(options.signal ? { signal: options.signal } : {}),
        onPart: (part, loadedBytes) =>
          options.onProgress?.({ loadedBytes, totalBytes: manifest.sizeBytes, part }),
        classify: (error, action) => this.fail(error, action),
      }));
    } catch (error) {
      if (options.signal?.aborted)
        throw new BackupError(
          'ABORTED',
          `upload to ${describeDestination(this.destination)} aborted: ${String(options.signal.reason)}`,
        );
      throw error;
    }
    const copy = await this.confirm(manifest, key);
    const remoteManifest: Manifest = {
      ...manifest,
      copies: [...(manifest.copies ?? []).filter((c) => c.destination !== copy.destination), copy],
    };
    await this.putManifest(remoteManifest);
    return { copy, partSize, parts, durationMs: Date.now() - started };
  }

  /** The object exists, complete, with the size and the SHA-256 the manifest has. */
  async confirm(manifest: Manifest, key: string): Promise<Copy> {
    let head: { ContentLength?: number | undefined; Metadata?: Record<string, string> | undefined };
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.destination.bucket, Key: key }));
    } catch (error) {
      throw this.fail(error, `confirm ${key}`);
    }
    const sha256 = head.Metadata?.[META_SHA256];
    if (head.ContentLength !== manifest.sizeBytes || sha256 !== manifest.sha256) {
      throw new BackupError(
        'COPY_NOT_CONFIRMED',
        `${describeDestination(this.destination)}: ${key} holds ${head.ContentLength} bytes with SHA-256 ${sha256 ?? '(none)'}, expected ${manifest.sizeBytes} bytes with ${manifest.sha256}`,
      );
    }
    return {
      destination: this.destination.name,
      bucket: this.destination.bucket,
      key,
      sizeBytes: manifest.sizeBytes,
      sha256: manifest.sha256,
      confirmedAt: new Date().toISOString(),
    };
  }

  async putManifest(manifest: Manifest): Promise<void> {
    const key = manifestKey(this.destination, manifest.id);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.destination.bucket,
          Key: key,
          Body: `${JSON.stringify(manifest, null, 2)}\n`,
          ContentType: 'application/json',
          ...(this.destination.serverSideEncryption === undefined
            ? {}
            : { ServerSideEncryption: this.destination.serverSideEncryption }),
          ...(this.destination.kmsKeyId === undefined ? {} : { SSEKMSKeyId: this.destination.kmsKeyId }),
        }),
      );
    } catch (error) {
      throw this.fail(error, `write ${key}`);
    }
  }

  /**
   * Rewrites the manifest object with `edit` applied to it as it is now (re-read just before it is
   * written). Two hosts recording on the same backup at the same moment may overwrite each other's
   * entry (S3 has no compare-and-swap that every provider offers); the newer one is kept, which
   * is the one that decides the backup's state.
   */
  async editManifest(id: string, edit: (manifest: Manifest) => Manifest): Promise<Manifest> {
    const { manifest } = await this.find(id);
    const updated = edit(manifest);
    await this.putManifest(updated);
    return updated;
  }

  /** Appends a verification of the remote copy to the manifest object (editManifest). */
  async recordVerification(id: string, verification: Verification): Promise<Manifest> {
    return this.editManifest(id, (manifest) => ({
      ...manifest,
      verifications: [...manifest.verifications, verification],
    }));
  }

  /**
   * The destination's catalog, from its manifest objects alone (no local file needed). `signal`
   * cancels every request (a page or a scrape bounds the listing with it); what it cuts short is
   * an error, never a shorter list.
   */
  async list(options: { target?: string; signal?: AbortSignal } = {}): Promise<RemoteListing> {
    const keys: string[] = [];
    const send = options.signal ? { abortSignal: options.signal } : {};
    try {
      // By hand rather than paginateListObjectsV2: the paginator cannot pass an abort signal.
      let token: string | undefined;
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.destination.bucket,
            Prefix: targetPrefix(this.destination, options.target),
            MaxKeys: 1000,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
          send,
        );
        for (const object of page.Contents ?? [])
          if (object.Key && isManifestKey(object.Key)) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw this.fail(error, 'list backups');
    }
    const entries: RemoteEntry[] = [];
    const problems: RemoteListing['problems'] = [];
    for (let start = 0; start < keys.length; start += MANIFEST_READ_CONCURRENCY) {
      const batch = keys.slice(start, start + MANIFEST_READ_CONCURRENCY);
      const results = await Promise.allSettled(
        batch.map((key) => this.readManifestObject(key, options.signal)),
      );
      // Cut short: the unread manifests would look like missing backups.
      if (options.signal?.aborted) throw this.fail(options.signal.reason, 'list backups');
      results.forEach((result, index) => {
        const key = batch[index]!;
        if (result.status === 'fulfilled') entries.push(result.value);
        else problems.push({ key, message: (result.reason as Error).message });
      });
    }
    entries.sort((a, b) =>
      a.manifest.createdAt === b.manifest.createdAt
        ? b.manifest.id.localeCompare(a.manifest.id)
        : b.manifest.createdAt.localeCompare(a.manifest.createdAt),
    );
    return { entries, problems };
  }

  /** One backup's manifest object; BACKUP_NOT_FOUND when the destination has none. */
  async find(id: string): Promise<RemoteEntry> {
    parseBackupId(id);
    const key = manifestKey(this.destination, id);
    try {
      return await this.readManifestObject(key);
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') {
        throw new BackupError(
          'BACKUP_NOT_FOUND',
          `no backup ${id} in ${describeDestination(this.destination)}`,
        );
      }
      throw error instanceof BackupError ? error : this.fail(error, `read ${key}`);
    }
  }

  private async readManifestObject(key: string, signal?: AbortSignal): Promise<RemoteEntry> {
    const answer = await this.client.send(
      new GetObjectCommand({ Bucket: this.destination.bucket, Key: key }),
      signal ? { abortSignal: signal } : {},
    );
    const text = (await answer.Body?.transformToString('utf8')) ?? '';
    const manifest = parseManifest(text, key);
    if (key !== manifestKey(this.destination, manifest.id)) {
      throw new BackupError('MANIFEST_INVALID', `${key} is not where the manifest of ${manifest.id} belongs`);
    }
    return remoteEntryOf(this.destination, manifest);
  }

  /**
   * Downloads a backup into `<backupDir>/<target>/` with its manifest, checking size and SHA-256
   * while streaming (a partial file, renamed only once it matches): afterwards the local engine
   * verifies and restores it as if it had been dumped there.
   */
  async download(entry: RemoteEntry, backupDir: string, signal?: AbortSignal): Promise<CatalogEntry> {
    const { manifest } = entry;
    const dir = targetDirectory(backupDir, manifest.target);
    await ensurePrivateDirectory(backupDir);
    await ensurePrivateDirectory(dir);
    const finalPath = path.join(dir, manifest.file);
    const partial = partialPathFor(finalPath);
    await this.downloadTo(entry, partial, signal);
    try {
      await fs.rename(partial, finalPath);
      await fsyncDirectory(dir);
    } catch (error) {
      await fs.rm(partial, { force: true });
      throw error;
    }
    return writeManifest(backupDir, manifest);
  }

  /**
   * Streams the data object into `file` (created 0600, fsynced) and checks it against the
   * manifest object: the size the server announces before any byte is written, then the size and
   * SHA-256 of what arrived. A mismatch is SIZE_MISMATCH or CHECKSUM_MISMATCH naming the
   * destination and key; on any failure `file` is removed.
   */
  async downloadTo(entry: RemoteEntry, file: string, signal?: AbortSignal): Promise<void> {
    const { manifest } = entry;
    const where = `${describeDestination(this.destination)}: ${entry.dataKey}`;
    const damaged =
      'the object changed after it was copied (restore from another destination or copy it again)';
    let body: Readable;
    let announced: number | undefined;
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.destination.bucket, Key: entry.dataKey }),
        signal ? { abortSignal: signal } : {},
      );
      body = answer.Body as Readable;
      announced = answer.ContentLength;
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey') {
        throw new BackupError(
          'BACKUP_FILE_MISSING',
          `${describeDestination(this.destination)} has the manifest of ${manifest.id} but no ${entry.dataKey}`,
        );
      }
      throw this.fail(error, `download ${entry.dataKey}`);
    }
    if (announced !== undefined && announced !== manifest.sizeBytes) {
      body.destroy();
      throw new BackupError(
        'SIZE_MISMATCH',
        `${where} has ${announced} bytes, its manifest says ${manifest.sizeBytes}: ${damaged}`,
      );
    }
    const hash = createHash('sha256');
    let size = 0;
    try {
      body.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      await pipeline(
        body,
        createWriteStream(file, { mode: FILE_MODE, flags: 'wx' }),
        signal ? { signal } : {},
      );
      const sha256 = hash.digest('hex');
      if (size !== manifest.sizeBytes)
        throw new BackupError(
          'SIZE_MISMATCH',
          `${where} has ${size} bytes, its manifest says ${manifest.sizeBytes}: ${damaged}`,
        );
      if (sha256 !== manifest.sha256)
        throw new BackupError(
          'CHECKSUM_MISMATCH',
          `${where} has SHA-256 ${sha256}, its manifest says ${manifest.sha256}: ${damaged}`,
        );
      const handle = await fs.open(file, 'r');
      await handle.sync().finally(() => handle.close());
    } catch (error) {
      await fs.rm(file, { force: true });
      throw error instanceof BackupError ? error : this.fail(error, `download ${entry.dataKey}`);
    }
  }

  /** Deletes a backup: the manifest object first, so no manifest ever names a missing object. */
  async delete(entry: RemoteEntry): Promise<void> {
    for (const key of [entry.manifestKey, entry.dataKey]) {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.destination.bucket, Key: key }));
      } catch (error) {
        throw this.fail(error, `delete ${key}`);
      }
    }
  }
}
