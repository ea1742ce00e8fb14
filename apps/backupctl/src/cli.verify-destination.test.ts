import fs from 'node:fs/promises';
import path from 'node:path';
import { findBackup, verificationState } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import { type OffsiteFixture, offsiteFixture, type WorkerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CopyDocument } from './commands/copy.js';
import type { RemoteBackupsDocument } from './commands/remote-backups.js';
import type { VerifyDocument } from './commands/verify.js';
import { copiedBackup } from './test-support/copied-backup.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// `verify --destination` checks the copy in the bucket, not the local file: it downloads the
// object, runs the checks at the level, and records the result in the manifest object, so the
// bucket's catalog (and its retention) knows a damaged copy from a good one.
let offsite: OffsiteFixture;
let fixture: WorkerFixture;
let store: RemoteStore;
let backupId: string;

async function remoteVerifications() {
  return (await store.find(backupId)).manifest.verifications;
}

beforeAll(async () => {
  offsite = await offsiteFixture(
    'verify_copy',
    {},
    'CREATE TABLE t AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 3000) g',
  );
  fixture = offsite.fixture;
  store = new RemoteStore(fixture.config.destinations[0]!);
  await fixture.start();
  backupId = await copiedBackup(fixture);
}, 240_000);

afterAll(async () => {
  store?.close();
  await offsite?.cleanup();
});

describe('backupctl verify --destination', () => {
  it('a good copy: verified at the level from the download, recorded in the manifest object only', async () => {
    const localBefore = (await findBackup(fixture.config.backupDir, backupId)).manifest.verifications;
    const remoteBefore = await remoteVerifications();
    const result = await runCli(fixture.env, [
      'verify',
      backupId,
      '--destination',
      's3',
      '--level',
      'read',
      '--wait',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(jsonOf<VerifyDocument>(result)).toMatchObject({
      state: 'completed',
      result: { backupId, level: 'read', ok: true, destination: 's3' },
    });
    const remoteAfter = await remoteVerifications();
    expect(remoteAfter).toHaveLength(remoteBefore.length + 1);
    expect(remoteAfter.at(-1)).toMatchObject({ level: 'read', ok: true });
    expect((await findBackup(fixture.config.backupDir, backupId)).manifest.verifications).toEqual(
      localBefore,
    );
    const tmp = await fs.readdir(path.join(fixture.config.backupDir, '.tmp')).catch(() => []);
    expect(tmp).toEqual([]);
  });

  it('a damaged copy: exit 1 with CHECKSUM_MISMATCH, recorded in the bucket; the local backup stays verified and stops counting that copy', async () => {
    const file = offsite.s3.objectFile('backups', (await store.find(backupId)).dataKey);
    const original = await fs.readFile(file);
    const damaged = Buffer.from(original);
    damaged[damaged.length - 10]! ^= 0x01;
    await fs.writeFile(file, damaged);
    try {
      const result = await runCli(fixture.env, [
        'verify',
        backupId,
        '--destination',
        's3',
        '--level',
        'checksum',
        '--wait',
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(1);
      const document = jsonOf<VerifyDocument>(result);
      expect(document.state).toBe('failed');
      expect(document.failure?.code).toBe('CHECKSUM_MISMATCH');
      expect(document.failure?.reason).toContain('destination s3 (bucket backups');
      expect((await remoteVerifications()).at(-1)).toMatchObject({
        level: 'checksum',
        ok: false,
        errorCode: 'CHECKSUM_MISMATCH',
      });
      // The bucket's catalog shows the copy failed; the local file is another matter.
      const listed = await runCli(fixture.env, ['backups', '--destination', 's3', '--json']);
      const row = jsonOf<RemoteBackupsDocument>(listed).backups.find((b) => b.id === backupId);
      expect(row?.verification.state).toBe('failed');
      const local = await findBackup(fixture.config.backupDir, backupId);
      expect(verificationState(local.manifest).state).toBe('verified');
      // The copy proved bad no longer counts here: retention keeps the local file for it, status
      // shows s3 behind once it is late, and a copy job uploads it again.
      expect(local.manifest.copies?.map((copy) => copy.destination)).toEqual([]);
      const logs = (await fixture.queue.getJobLogs(document.job.id)).logs.join('\n');
      expect(logs).toContain(
        `the copy in s3 proved bad: it no longer counts; \`backupctl copy ${backupId} --destination s3 --wait\` uploads it again`,
      );
    } finally {
      await fs.writeFile(file, original);
    }
    // Copied again, as the log says: uploaded (not found already there), counted again.
    const copied = await runCli(fixture.env, ['copy', backupId, '--destination', 's3', '--wait', '--json']);
    expect(copied.code, copied.stderr).toBe(0);
    expect(jsonOf<CopyDocument>(copied).copies[0]?.result).toMatchObject({
      reused: false,
      destination: 's3',
    });
    expect(
      (await findBackup(fixture.config.backupDir, backupId)).manifest.copies?.map((copy) => copy.destination),
    ).toEqual(['s3']);
    const again = await runCli(fixture.env, ['verify', backupId, '--destination', 's3', '--wait']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`OK  ${backupId} (the copy in s3)  verified at level read`);
    expect((await remoteVerifications()).at(-1)).toMatchObject({ ok: true });
  });

  it('a backup the bucket does not hold, or an unknown destination: exit 2 before any job', async () => {
    const missing = backupId.replace(/-[0-9a-f]{6}$/, '-000000');
    const absent = await runCli(fixture.env, ['verify', missing, '--destination', 's3', '--wait']);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain(`BACKUP_NOT_FOUND: no backup ${missing} in destination s3`);
    const unknown = await runCli(fixture.env, ['verify', backupId, '--destination', 'nas']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('DESTINATION_UNKNOWN');
    const jobs = await fixture.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    expect(jobs.filter((job) => JSON.stringify(job.data).includes(missing))).toEqual([]);
  });
});
