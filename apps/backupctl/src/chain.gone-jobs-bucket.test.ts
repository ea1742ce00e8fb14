import { listBackups } from '@pgbackup/backup-core';
import { copyJobId, parseJobResult } from '@pgbackup/queue';
import { dumpCopiedAndPruned, type OffsiteFixture, offsiteFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeChain, followDumpChain } from './chain.js';
import { chainRecord, localChainRecord } from './chain-record.js';
import type { ChainRecord, FollowOptions } from './follow.js';

// With local retention 0 the backup's local files are deleted once its copy is confirmed: when
// the queue has also let the chain's jobs go, the manifest object in the bucket is the record.

let offsite: OffsiteFixture;

beforeAll(async () => {
  offsite = await offsiteFixture(
    'cli_gone_bucket',
    { BACKUP_RETENTION: '0', BACKUP_VERIFY: 'checksum' },
    'CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g',
  );
  await offsite.fixture.start();
});

afterAll(async () => {
  await offsite?.cleanup();
});

function followOptions(record: ChainRecord): FollowOptions {
  return {
    progress: { update: () => undefined, note: () => undefined, finish: () => undefined },
    signal: new AbortController().signal,
    intervalMs: 50,
    record,
  };
}

it('a retention-0 chain whose jobs the queue let go is read from the manifest in the bucket', async () => {
  const { fixture } = offsite;
  const { backupId, pruneJobId } = await dumpCopiedAndPruned(fixture);
  // The local copy is gone: only the bucket holds the backup now.
  expect((await listBackups(fixture.config.backupDir, { target: 'shop' })).entries).toEqual([]);

  const completed = await fixture.queue.getJobs(['completed']);
  const dump = completed.find(
    (job) => job.name === 'dump' && parseJobResult('dump', job.id, job.returnvalue).backupId === backupId,
  );
  expect(dump).toBeDefined();
  const verifyJobId = parseJobResult('dump', dump!.id, dump!.returnvalue).verifyJobId!;
  for (const id of [dump!.id!, verifyJobId, copyJobId(backupId, 's3'), pruneJobId]) {
    const job = await fixture.queue.getJob(id);
    expect(job, id).toBeDefined();
    await job!.remove();
  }

  const chain = await followDumpChain(
    fixture.queue,
    dump!.id!,
    'shop',
    followOptions(chainRecord(fixture.config)),
  );
  expect(chain).toMatchObject({ ok: true, backupId, fromManifest: { level: 'checksum' } });
  expect(describeChain(chain)).toMatch(new RegExp(`^OK  ${backupId}  shop  .*\\(from its manifest\\)`));

  // The local catalog alone no longer knows it.
  await expect(
    followDumpChain(
      fixture.queue,
      dump!.id!,
      'shop',
      followOptions(localChainRecord(fixture.config.backupDir)),
    ),
  ).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
});
