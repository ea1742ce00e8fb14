import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { recordCopy } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import { enqueuePrune, parseJobResult } from '@pgbackup/queue';
import { useCleanups } from '@pgbackup/testkit';
import { offsiteFixture, writeVerifiedBackup } from '@pgbackup/worker/testing';
import { expect, it } from 'vitest';
import type { PruneDocument } from './commands/prune.js';
import { runCli } from './test-support/run-cli.js';

const onCleanup = useCleanups();

it('prune applies the destination retention to the bucket, to backups another host copied; a second prune deletes nothing more', async () => {
  const offsite = await offsiteFixture('offsite_prune', {
    BACKUP_S3_RETENTION: 'daily=2,weekly=0,monthly=0,min=1',
  });
  onCleanup(() => offsite.cleanup());
  const { fixture } = offsite;
  // Another host's backup directory, copied to the shared bucket; this worker has none of the files.
  const otherDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-other-host-'));
  onCleanup(() => fs.rm(otherDir, { recursive: true, force: true }));
  const store = new RemoteStore(fixture.config.destinations[0]!);
  onCleanup(async () => store.close());
  const day = 86_400_000;
  const ids: string[] = [];
  for (const daysAgo of [5, 4, 3, 1, 0]) {
    const entry = await writeVerifiedBackup(otherDir, {
      target: 'shop',
      createdAt: new Date(Date.now() - daysAgo * day - 60_000),
      hostname: 'other-host',
    });
    await store.upload(entry);
    ids.push(entry.manifest.id);
  }
  await fixture.start();
  const job = await enqueuePrune(fixture.queue, { target: 'shop' });
  expect(await fixture.finished(job)).toBe('completed');
  const result = parseJobResult('prune', job.id, (await fixture.queue.getJob(job.id!))?.returnvalue);
  expect(result.destinations).toEqual([
    { destination: 's3', kept: 2, planned: 3, deleted: [ids[0], ids[1], ids[2]] },
  ]);
  const left = (await store.list({ target: 'shop' })).entries.map((e) => e.manifest.id).sort();
  expect(left).toEqual([ids[3], ids[4]].sort());
  // The deleted backups' data objects are gone too (manifest first, then data).
  for (const id of ids.slice(0, 3)) {
    await expect(store.find(id!)).rejects.toMatchObject({ code: 'BACKUP_NOT_FOUND' });
  }
  // The remote catalog, from the bucket alone: this worker's backup directory has none of them.
  const listed = await runCli(fixture.env, ['backups', '--destination', 's3', '--json']);
  expect(listed.code).toBe(0);
  const document = JSON.parse(listed.stdout) as {
    backups: Array<{ id: string; copies: Array<{ destination: string }> }>;
  };
  expect(document.backups.map((b) => b.id).sort()).toEqual([ids[3], ids[4]].sort());
  expect(document.backups[0]?.copies.map((c) => c.destination)).toEqual(['s3']);
  // A second prune finds nothing more to delete.
  const again = await enqueuePrune(fixture.queue, { target: 'shop' });
  expect(await fixture.finished(again)).toBe('completed');
  const second = parseJobResult('prune', again.id, (await fixture.queue.getJob(again.id!))?.returnvalue);
  expect(second.destinations?.[0]?.deleted).toEqual([]);
});

it('retention 0 counts only copies where the destination keeps backups now: re-pointed at another prefix, the local file is kept', async () => {
  const offsite = await offsiteFixture('offsite_repointed');
  onCleanup(() => offsite.cleanup());
  const { fixture } = offsite;
  const store = new RemoteStore(fixture.config.destinations[0]!);
  onCleanup(async () => store.close());
  const entry = await writeVerifiedBackup(fixture.config.backupDir, {
    target: 'shop',
    createdAt: new Date(),
  });
  const { copy } = await store.upload(entry);
  await recordCopy(fixture.config.backupDir, entry.manifest.id, copy);
  const plan = async (env: Record<string, string>) => {
    const result = await runCli({ ...fixture.env, BACKUP_RETENTION: '0', ...env }, [
      'prune',
      '--dry-run',
      '--target',
      'shop',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as PruneDocument).results[0]!;
  };
  // Copied where the destination is configured: retention 0 may delete the local file.
  expect((await plan({})).wouldDelete).toEqual([entry.manifest.id]);
  // The same destination name, re-pointed at another prefix: that copy is not there.
  const repointed = await plan({ BACKUP_S3_PREFIX: 'elsewhere' });
  expect(repointed.wouldDelete).toEqual([]);
  expect(repointed.decisions[0]?.reasons.join(' ')).toMatch(/awaiting|copy/);
});
