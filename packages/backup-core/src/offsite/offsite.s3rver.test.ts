import fs from 'node:fs/promises';
import path from 'node:path';
import { S3Server } from '@pgbackup/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { operatorKeyFromBytes } from '../crypto/index.js';
import { runDump } from '../dump/dump.js';
import { BackupError } from '../errors.js';
import { restoreBackup } from '../restore/restore.js';
import { findBackup, listBackups } from '../storage/catalog.js';
import {
  connectionOf,
  createTestDatabase,
  dumpTarget,
  type Workspace,
  workspace,
} from '../test-support/fixtures.js';
import { destinationOn, syntheticBackup } from '../test-support/offsite.js';
import { databaseDigest, loadSampleDatabase } from '../test-support/sample-database.js';
import { verifyBackup } from '../verify/verify.js';
import { sweepIncompleteUploads } from './multipart-sweep.js';
import { RemoteStore } from './remote-store.js';

const MiB = 2 ** 20;
const key = operatorKeyFromBytes(Buffer.alloc(32, 9));
let server: S3Server;
let ws: Workspace;
const stores: RemoteStore[] = [];
const storeOn = (...args: Parameters<typeof destinationOn>) => {
  const store = new RemoteStore(destinationOn(...args));
  stores.push(store);
  return store;
};

beforeAll(async () => {
  server = await S3Server.start({ buckets: ['backups'] });
});
afterAll(async () => {
  await server.destroy();
});
afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  await ws?.remove();
});

async function failureOf(promise: Promise<unknown>): Promise<BackupError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BackupError);
    return error as BackupError;
  }
  throw new Error('expected a failure');
}

describe('offsite copy through a real S3 server (s3rver)', () => {
  it('round trip with the local backup directory deleted: listed from the bucket, downloaded, restored identical table by table', async () => {
    ws = await workspace();
    const source = await createTestDatabase('offsite_src');
    await loadSampleDatabase(source.url);
    const dumped = await runDump({
      target: dumpTarget(source, 'zstd', 'shop'),
      backupDir: ws.backupDir,
      logDir: ws.logDir,
      encryptionKey: key,
    });
    const entry = await findBackup(ws.backupDir, dumped.manifest.id);
    const result = await storeOn(server, { prefix: 'round-trip' }).upload(entry);
    expect(result.copy).toMatchObject({
      destination: 'offsite',
      bucket: 'backups',
      key: `round-trip/shop/${entry.manifest.file}`,
      sizeBytes: entry.manifest.sizeBytes,
      sha256: entry.manifest.sha256,
    });
    // Never plaintext off-host: the object holds the encrypted file's bytes.
    const stored = await fs.readFile(entry.filePath);
    expect(stored.subarray(0, 16).includes(Buffer.from('PGDMP'))).toBe(false);

    await fs.rm(ws.backupDir, { recursive: true, force: true });

    // Another host: a fresh client, an empty backup directory, only the bucket.
    const other = storeOn(server, { prefix: 'round-trip' });
    const listing = await other.list();
    expect(listing.problems).toEqual([]);
    expect(listing.entries.map((e) => e.manifest.id)).toEqual([entry.manifest.id]);
    expect(listing.entries[0]?.manifest.copies?.map((c) => c.destination)).toEqual(['offsite']);
    const remote = await other.find(entry.manifest.id);
    const downloaded = await other.download(remote, path.join(ws.root, 'elsewhere'));
    expect((await listBackups(path.join(ws.root, 'elsewhere'))).entries).toHaveLength(1);

    const verified = await verifyBackup({
      backupDir: path.join(ws.root, 'elsewhere'),
      id: downloaded.manifest.id,
      level: 'read',
      keyring: [key],
    });
    expect(verified.verification.ok).toBe(true);
    const restoredName = `${source.name}_from_bucket`;
    await restoreBackup({
      backupDir: path.join(ws.root, 'elsewhere'),
      logDir: ws.logDir,
      id: downloaded.manifest.id,
      to: { ...connectionOf(source.url), database: restoredName },
      keyring: [key],
    });
    const restoredUrl = source.url.replace(`/${source.name}`, `/${restoredName}`);
    expect(await databaseDigest(restoredUrl)).toEqual(await databaseDigest(source.url));
  });

  it('wrong credentials fail at once, not retryable, naming the destination and never the secret', async () => {
    ws = await workspace();
    const entry = await syntheticBackup(ws.backupDir, 1024);
    const secret = 'do-not-print-this-secret-4711';
    const error = await failureOf(
      storeOn(server, { credentials: { accessKeyId: 'WRONGKEY', secretAccessKey: secret } }).upload(entry),
    );
    expect(error.code).toMatch(/^S3_(AUTH_FAILED|ACCESS_DENIED)$/);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('destination offsite (bucket backups at http://127.0.0.1:');
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(secret);
    // With a body (GET), s3rver names the key: the precise code.
    const listed = await failureOf(
      storeOn(server, { credentials: { accessKeyId: 'WRONGKEY', secretAccessKey: secret } }).list(),
    );
    expect(listed.code).toBe('S3_AUTH_FAILED');
  });

  it('a missing bucket fails at once, not retryable, naming bucket and destination', async () => {
    ws = await workspace();
    const entry = await syntheticBackup(ws.backupDir, 1024);
    const error = await failureOf(storeOn(server, { bucket: 'no-such-bucket' }).upload(entry));
    expect(error.code).toBe('S3_BUCKET_MISSING');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('the bucket no-such-bucket does not exist');
  });

  it('an unreachable endpoint is retryable, with its own code', async () => {
    ws = await workspace();
    const entry = await syntheticBackup(ws.backupDir, 1024);
    const closed = await S3Server.start();
    const endpoint = closed.endpoint;
    await closed.destroy();
    const error = await failureOf(storeOn(server, { endpoint }).upload(entry));
    expect(error.code).toBe('S3_UNREACHABLE');
    expect(error.retryable).toBe(true);
  });

  it('a part limit forces larger parts: 12 MiB in at most 2 parts goes as 2 parts of 6 MiB', async () => {
    ws = await workspace();
    const entry = await syntheticBackup(ws.backupDir, 12 * MiB);
    const limited = await storeOn(server, { prefix: 'parts', maxParts: 2 }).upload(entry);
    expect(limited.partSize).toBe(6 * MiB);
    expect(limited.parts).toBe(2);
    const store = storeOn(server, { prefix: 'parts' });
    const again = await syntheticBackup(ws.backupDir, 12 * MiB);
    const unlimited = await store.upload(again);
    expect(unlimited.partSize).toBe(5 * MiB);
    expect(unlimited.parts).toBe(3);
    // The bytes arrived whole: downloaded and checked against the manifest's SHA-256.
    const downloaded = await store.download(await store.find(entry.manifest.id), path.join(ws.root, 'dl'));
    expect((await fs.stat(downloaded.filePath)).size).toBe(12 * MiB);
  });

  it('parts are read from the file under either checksum mode: the bytes arrive whole, single part and multipart', async () => {
    ws = await workspace();
    // s3rver ignores checksum headers but would store an aws-chunked body's framing as data:
    // the round trip shows each part went as plain bytes with its digest in a header
    // (CRC32 under WHEN_SUPPORTED, Content-MD5 under WHEN_REQUIRED).
    for (const checksums of ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const) {
      const store = storeOn(server, { prefix: `modes-${checksums}`, checksums });
      for (const size of [1024, 11 * MiB + 17]) {
        const entry = await syntheticBackup(ws.backupDir, size);
        const result = await store.upload(entry, { queueSize: 2 });
        expect(result.parts).toBe(Math.ceil(size / (5 * MiB)));
        const downloaded = await store.download(
          await store.find(entry.manifest.id),
          path.join(ws.root, `dl-${checksums}-${size}`),
        );
        expect(downloaded.manifest.sha256).toBe(entry.manifest.sha256);
        expect((await fs.stat(downloaded.filePath)).size).toBe(size);
      }
    }
  });

  it('a local file that is not the size its manifest says is not uploaded', async () => {
    ws = await workspace();
    const entry = await syntheticBackup(ws.backupDir, 6 * MiB);
    await fs.truncate(entry.filePath, 6 * MiB - 1);
    const store = storeOn(server, { prefix: 'short' });
    const error = await failureOf(store.upload(entry));
    expect(error.code).toBe('SIZE_MISMATCH');
    expect((await store.list()).entries).toEqual([]);
  });

  it('a local file damaged since its verification (same size) is not copied: CHECKSUM_MISMATCH, nothing visible', async () => {
    ws = await workspace();
    const store = storeOn(server, { prefix: 'damaged' });
    for (const size of [1024, 11 * MiB]) {
      const entry = await syntheticBackup(ws.backupDir, size);
      // One byte flipped in the last part: found only once every part has been read.
      const handle = await fs.open(entry.filePath, 'r+');
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, size - 10);
      byte[0] = byte[0]! ^ 0xff;
      await handle.write(byte, 0, 1, size - 10);
      await handle.close();
      const error = await failureOf(store.upload(entry, { queueSize: 2 }));
      expect(error.code).toBe('CHECKSUM_MISMATCH');
      expect(error.message).toContain(`its manifest records ${entry.manifest.sha256}`);
      await expect(
        store.confirm(entry.manifest, `damaged/app/${entry.manifest.file}`),
      ).rejects.toBeInstanceOf(BackupError);
    }
    expect((await store.list()).entries).toEqual([]);
  });

  it('an upload aborted by its signal mid-way: ABORTED, nothing visible, no manifest object', async () => {
    ws = await workspace();
    const entry = await syntheticBackup(ws.backupDir, 30 * MiB);
    const store = storeOn(server, { prefix: 'aborted' });
    const controller = new AbortController();
    const error = await failureOf(
      store.upload(entry, {
        queueSize: 1,
        signal: controller.signal,
        onProgress: () => controller.abort('the job was cancelled'),
      }),
    );
    expect(error.code).toBe('ABORTED');
    expect((await store.list()).entries).toEqual([]);
    await expect(store.confirm(entry.manifest, `aborted/app/${entry.manifest.file}`)).rejects.toBeInstanceOf(
      BackupError,
    );
  });

  it('the sweep of incomplete uploads on an endpoint without ListMultipartUploads (s3rver): unsupported, not an error', async () => {
    // What this cannot show: that old uploads are listed and aborted. s3rver answers
    // ListMultipartUploads with 501 and AbortMultipartUpload with 405, and no fuller S3 server
    // installs from npm alone; that path is exercised only against a real provider or MinIO.
    const result = await sweepIncompleteUploads(storeOn(server, { prefix: 'sweep' }), { target: 'app' });
    expect(result).toEqual({
      supported: false,
      reason: expect.stringMatching(
        /^the endpoint does not implement ListMultipartUploads \(\w+, HTTP 50[0-9]\)$/,
      ),
    });
  });

  it('the server killed mid-upload: retryable failure, nothing half-visible, no manifest object; the retry completes', async () => {
    ws = await workspace();
    const entry = await syntheticBackup(ws.backupDir, 40 * MiB);
    const store = storeOn(server, { prefix: 'killed' });
    let killing: Promise<void> | undefined;
    const upload = store.upload(entry, {
      queueSize: 1,
      onProgress: () => {
        killing ??= server.kill();
      },
    });
    const error = await failureOf(upload);
    await killing;
    expect(error.code).toBe('S3_UNREACHABLE');
    expect(error.retryable).toBe(true);

    await server.restart();
    const after = storeOn(server, { prefix: 'killed' });
    expect((await after.list()).entries).toEqual([]);
    await expect(after.find(entry.manifest.id)).rejects.toMatchObject({ code: 'BACKUP_NOT_FOUND' });
    await expect(after.confirm(entry.manifest, `killed/app/${entry.manifest.file}`)).rejects.toBeInstanceOf(
      BackupError,
    );

    const retried = await after.upload(entry);
    expect(retried.parts).toBe(8);
    expect((await after.list()).entries.map((e) => e.manifest.id)).toEqual([entry.manifest.id]);
  });
});
