import fs from 'node:fs/promises';
import path from 'node:path';
import { findBackup, listBackups } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import { enqueueCopy, enqueuePrune, parseJobResult } from '@pgbackup/queue';
import { useCleanups } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { dumpCopiedAndPruned, offsiteFixture } from './test-support/offsite-fixture.js';
import { writeVerifiedBackup } from './test-support/verified-backup.js';
import type { WorkerFixture } from './test-support/worker-fixture.js';

const onCleanup = useCleanups();

async function s3Fixture(env: Record<string, string>): Promise<WorkerFixture> {
  const offsite = await offsiteFixture(
    'offsite_retention',
    env,
    'CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g',
  );
  onCleanup(() => offsite.cleanup());
  return offsite.fixture;
}

async function localIds(backupDir: string): Promise<string[]> {
  return (await listBackups(backupDir, { target: 'shop' })).entries.map((e) => e.manifest.id).sort();
}

it('retention 0: dump -> verify -> copy -> prune leaves the backup in the bucket only', async () => {
  const fixture = await s3Fixture({ BACKUP_RETENTION: '0' });
  expect(fixture.config.targets[0]?.retention.untilCopied).toBe(true);
  await fixture.start();
  const { backupId, pruneJobId } = await dumpCopiedAndPruned(fixture);
  const pruned = parseJobResult('prune', pruneJobId, (await fixture.queue.getJob(pruneJobId))?.returnvalue);
  expect(pruned.deleted).toEqual([backupId]);
  expect(pruned.decisions[0]?.reasons).toEqual(['copied to s3 (retention 0: kept only until copied)']);
  // Gone from the disk (manifest and file), whole in the bucket, which keeps its own policy.
  expect(await localIds(fixture.config.backupDir)).toEqual([]);
  expect(await fs.readdir(path.join(fixture.config.backupDir, 'shop'))).toEqual([]);
  const store = new RemoteStore(fixture.config.destinations[0]!);
  onCleanup(async () => store.close());
  const remote = await store.find(backupId);
  await store.confirm(remote.manifest, remote.dataKey);
  expect(pruned.destinations).toEqual([{ destination: 's3', kept: 1, planned: 0, deleted: [] }]);
});

it('the local prune keeps a backup the policy would delete until its copy is confirmed, then deletes it', async () => {
  const fixture = await s3Fixture({ BACKUP_RETENTION: 'daily=1,weekly=0,monthly=0,min=1' });
  const backupDir = fixture.config.backupDir;
  const hour = 3_600_000;
  const older = (
    await writeVerifiedBackup(backupDir, { target: 'shop', createdAt: new Date(Date.now() - 30 * hour) })
  ).manifest.id;
  const newer = (
    await writeVerifiedBackup(backupDir, { target: 'shop', createdAt: new Date(Date.now() - 60_000) })
  ).manifest.id;
  await fixture.start();

  const first = await enqueuePrune(fixture.queue, { target: 'shop' });
  expect(await fixture.finished(first)).toBe('completed');
  const held = parseJobResult('prune', first.id, (await fixture.queue.getJob(first.id!))?.returnvalue);
  expect(held.deleted).toEqual([]);
  expect(held.decisions.find((d) => d.id === older)).toMatchObject({
    action: 'keep',
    reasons: ['no confirmed copy yet in s3, kept until there is'],
  });
  expect(await localIds(backupDir)).toEqual([older, newer].sort());

  const copy = await enqueueCopy(fixture.queue, { backupId: older, destination: 's3' });
  expect(await fixture.finished(copy)).toBe('completed');
  expect((await findBackup(backupDir, older)).manifest.copies?.map((c) => c.destination)).toEqual(['s3']);
  const second = await enqueuePrune(fixture.queue, { target: 'shop' }, { jobId: 'prune-again' });
  expect(await fixture.finished(second)).toBe('completed');
  const after = parseJobResult('prune', second.id, (await fixture.queue.getJob(second.id!))?.returnvalue);
  expect(after.deleted).toEqual([older]);
  expect(await localIds(backupDir)).toEqual([newer]);
  // s3rver has no ListMultipartUploads: the sweep after each destination prune says so once per
  // worker, in the first prune's run log only, and the prunes succeed regardless.
  const logs = await fs.readdir(fixture.config.logDir, { recursive: true, withFileTypes: true });
  let reports = 0;
  for (const entry of logs.filter((e) => e.isFile())) {
    const text = await fs.readFile(path.join(entry.parentPath, entry.name), 'utf8');
    reports +=
      text.split('s3: incomplete multipart uploads are not swept: the endpoint does not implement').length -
      1;
  }
  expect(reports).toBe(1);
});
