import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import { enqueuePrune, parseJobResult } from '@pgbackup/queue';
import type { TestDatabase } from '@pgbackup/testkit';
import {
  type OffsiteFixture,
  offsiteFixture,
  spawnWorker,
  type WorkerFixture,
  type WorkerProcess,
  writeVerifiedBackup,
} from '@pgbackup/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteBackupsDocument } from './commands/remote-backups.js';
import type { RestoreDocument } from './commands/restore.js';
import type { VerifyDocument } from './commands/verify.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// Two worker processes on two "hosts": their own backup directories, one bucket, one queue. The
// first writes a backup; the second, which never had the file, lists, verifies and restores it
// from the bucket. With both running, two prunes delete each expired object once.
let offsite: OffsiteFixture;
let fixture: WorkerFixture;
let db: TestDatabase;
let envA: Record<string, string>;
let envB: Record<string, string>;
let backupId: string;
const processes: WorkerProcess[] = [];

async function stop(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  await worker.exited;
}

async function jobRanOn(jobId: string, worker: WorkerProcess): Promise<boolean> {
  const { logs } = await fixture.queue.getJobLogs(jobId);
  return logs.some((line) => line.includes(`(pid ${worker.child.pid})`));
}

/** A verified backup of random bytes from some earlier day, uploaded to the bucket by "a third host". */
async function expiredInBucket(store: RemoteStore, dir: string, daysAgo: number): Promise<string> {
  const createdAt = new Date(Date.now() - daysAgo * 86_400_000);
  const entry = await writeVerifiedBackup(dir, {
    target: 'shop',
    createdAt,
    bytes: 1024,
    hostname: 'third-host',
  });
  await store.upload(entry);
  return entry.manifest.id;
}

async function rows(database: string): Promise<string> {
  const client = await connect({ ...fixture.config.targets[0]!.connection, database });
  try {
    const { rows: found } = await client.query<{ n: string; digest: string }>(
      "SELECT count(*) AS n, md5(string_agg(t::text, ',' ORDER BY t::text)) AS digest FROM items t",
    );
    return `${found[0]!.n} ${found[0]!.digest}`;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  offsite = await offsiteFixture(
    'two_hosts',
    { BACKUP_S3_PREFIX: 'shared', BACKUP_S3_RETENTION: 'daily=1,weekly=0,monthly=0,min=1' },
    "CREATE TABLE items AS SELECT g AS id, 'item ' || g AS name FROM generate_series(1, 2000) g",
  );
  ({ fixture, db } = offsite);
  envA = fixture.env;
  envB = {
    ...fixture.env,
    BACKUP_DIR: path.join(fixture.dir, 'host-b', 'backups'),
    BACKUP_LOG_DIR: path.join(fixture.dir, 'host-b', 'logs'),
  };
}, 120_000);

afterAll(async () => {
  for (const worker of processes) await stop(worker).catch(() => undefined);
  await offsite?.cleanup();
});

describe('two workers, separate backup directories, one bucket', () => {
  it('host A dumps and copies; host B (alone, no file of it) lists, verifies and restores it from the bucket', async () => {
    const a = spawnWorker(envA);
    processes.push(a);
    const dump = await runCli(envA, ['dump', '--wait', '--json']);
    expect(dump.code, `${dump.stderr}\n${a.output()}`).toBe(0);
    backupId = (JSON.parse(dump.stdout) as { results: Array<{ backupId: string }> }).results[0]!.backupId;
    await stop(a);

    const b = spawnWorker(envB);
    processes.push(b);
    const local = await runCli(envB, ['backups', '--json']);
    expect((JSON.parse(local.stdout) as { backups: unknown[] }).backups).toEqual([]);
    const remote = await runCli(envB, ['backups', '--destination', 's3', '--json']);
    expect(remote.code, remote.stderr).toBe(0);
    expect(jsonOf<RemoteBackupsDocument>(remote).backups.map((row) => row.id)).toEqual([backupId]);

    const verify = await runCli(envB, [
      'verify',
      backupId,
      '--destination',
      's3',
      '--level',
      'read',
      '--wait',
      '--json',
    ]);
    expect(verify.code, `${verify.stderr}\n${b.output()}`).toBe(0);
    const verifyJob = jsonOf<VerifyDocument>(verify).job.id;
    expect(await jobRanOn(verifyJob, b)).toBe(true);

    const restore = await runCli(envB, [
      'restore',
      backupId,
      '--to',
      'shop_on_b',
      '--from',
      's3',
      '--wait',
      '--json',
    ]);
    expect(restore.code, `${restore.stderr}\n${b.output()}`).toBe(0);
    const restoreJob = jsonOf<RestoreDocument>(restore).job!.id;
    expect(await jobRanOn(restoreJob, b)).toBe(true);
    expect(await rows('shop_on_b')).toBe(await rows(db.name));
  });

  it('both running: two prunes under the target lock delete each expired object once', async () => {
    const store = new RemoteStore(fixture.config.destinations[0]!);
    const third = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-third-host-'));
    try {
      const expired = [
        await expiredInBucket(store, third, 5),
        await expiredInBucket(store, third, 4),
        await expiredInBucket(store, third, 3),
      ];
      processes.push(spawnWorker(envA));
      const first = await enqueuePrune(fixture.queue, { target: 'shop' }, { jobId: 'prune-race-1' });
      const second = await enqueuePrune(fixture.queue, { target: 'shop' }, { jobId: 'prune-race-2' });
      const deleted: string[] = [];
      for (const job of [first, second]) {
        expect(await fixture.finished(job, 120_000)).toBe('completed');
        const result = parseJobResult('prune', job.id, (await fixture.queue.getJob(job.id!))?.returnvalue);
        deleted.push(...(result.destinations?.[0]?.deleted ?? []));
      }
      expect(deleted.sort()).toEqual([...expired].sort());
      expect((await store.list({ target: 'shop' })).entries.map((e) => e.manifest.id)).toEqual([backupId]);
    } finally {
      store.close();
      await fs.rm(third, { recursive: true, force: true });
    }
  });
});
