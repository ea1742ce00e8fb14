import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findBackup } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import { copyJobId, enqueueDump, parseJobResult } from '@pgbackup/queue';
import { createTestDatabase, S3Server, waitFor } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { useWorkerFixtures, type WorkerFixture } from './test-support/worker-fixture.js';

const { workerFixture, onCleanup } = useWorkerFixtures();
let fixture: WorkerFixture | undefined;

it('dump -> verify -> copy -> prune: the copy job is retried while S3 is down, then confirmed in both manifests', async () => {
  const s3 = await S3Server.start({ buckets: ['backups'] });
  onCleanup(() => s3.destroy());
  const db = await createTestDatabase('offsite_chain');
  await db.query('CREATE TABLE t AS SELECT g, md5(g::text) AS h FROM generate_series(1, 2000) g');
  const secretDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-s3-secret-'));
  onCleanup(() => fs.rm(secretDir, { recursive: true, force: true }));
  const secretFile = path.join(secretDir, 'secret');
  await fs.writeFile(secretFile, `${S3Server.secretAccessKey}\n`, { mode: 0o600 });
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'shop',
    BACKUP_ATTEMPTS: '5',
    BACKUP_BACKOFF: '1s',
    BACKUP_S3_BUCKET: 'backups',
    BACKUP_S3_ENDPOINT: s3.endpoint,
    BACKUP_S3_PREFIX: 'chain',
    BACKUP_S3_ACCESS_KEY_ID: S3Server.accessKeyId,
    BACKUP_S3_SECRET_ACCESS_KEY_FILE: secretFile,
  });
  expect(fixture.config.targets[0]?.destinations).toEqual(['s3']);
  await s3.kill();
  await fixture.start();
  const dump = await enqueueDump(fixture.queue, { target: 'shop' });
  expect(await fixture.finished(dump)).toBe('completed');
  const dumped = parseJobResult('dump', dump.id, (await fixture.queue.getJob(dump.id!))?.returnvalue);
  expect(await fixture.finished(dumped.verifyJobId!)).toBe('completed');

  const copyId = copyJobId(dumped.backupId, 's3');
  await waitFor(
    'a failed copy attempt',
    async () => ((await fixture!.queue.getJob(copyId))?.attemptsMade ?? 0) >= 1,
    60_000,
  );
  await s3.restart();
  expect(await fixture.finished(copyId, 90_000)).toBe('completed');
  const copyJob = await fixture.queue.getJob(copyId);
  const logs = (await fixture.queue.getJobLogs(copyId)).logs.join('\n');
  expect(logs).toMatch(
    /failed \(will be retried\): S3_UNREACHABLE: destination s3 \(bucket backups at http:\/\/127\.0\.0\.1:/,
  );
  const copied = parseJobResult('copy', copyId, copyJob?.returnvalue);
  expect(copied).toMatchObject({
    destination: 's3',
    bucket: 'backups',
    key: expect.stringMatching(/^chain\/shop\//),
  });
  expect(copied.pruneJobId).toBe(`prune-after-${dumped.backupId}`);
  expect(await fixture.finished(copied.pruneJobId!)).toBe('completed');

  // Confirmed in the local manifest and in the bucket's manifest.
  const local = await findBackup(fixture.config.backupDir, dumped.backupId);
  expect(local.manifest.copies).toEqual([
    expect.objectContaining({ destination: 's3', sha256: local.manifest.sha256 }),
  ]);
  const store = new RemoteStore(fixture.config.destinations[0]!);
  onCleanup(async () => store.close());
  const remote = await store.find(dumped.backupId);
  expect(remote.manifest.sha256).toBe(local.manifest.sha256);
  expect(remote.manifest.copies?.map((c) => c.destination)).toEqual(['s3']);
  // Job data never carries credentials.
  expect(JSON.stringify(copyJob?.data)).not.toContain(S3Server.accessKeyId);
});
