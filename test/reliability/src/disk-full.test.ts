import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listBackups, verifyBackup } from '@pgbackup/backup-core';
import { enqueueDump, enqueuePrune, enqueueVerify } from '@pgbackup/queue';
import { createTestDatabase, type TestDatabase } from '@pgbackup/testkit';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { catalogProblems, fileDigests, partialFiles } from './support/backup-dir.js';
import { recordResults } from './support/results.js';
import { createStack, failureCode, jobLog, type Stack } from './support/stack.js';

const TARGET = 'fill';

/** A tmpfs needs root (CAP_SYS_ADMIN); without it, the file-size limit test still runs. */
function tryMount(dir: string, size: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]).status === 0;
}
const probeDir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-mount-probe-'));
const canMount = tryMount(probeDir, '1m') && spawnSync('umount', [probeDir]).status === 0;
rmSync(probeDir, { recursive: true, force: true });

let db: TestDatabase;
let stack: Stack | undefined;
const mounts: string[] = [];
const dirs: string[] = [];
const results: Record<string, unknown> = { tmpfsAvailable: canMount };

beforeAll(async () => {
  db = await createTestDatabase('diskfull');
  await db.query(`CREATE TABLE small AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g`);
});

afterEach(async () => {
  await stack?.cleanup();
  stack = undefined;
});

afterAll(async () => {
  for (const dir of mounts) spawnSync('umount', ['-l', dir]);
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
  recordResults('disk-full', results);
});

/** Grows the database so that a dump no longer fits: ~20 MB of hex digests, ~10 MB after zstd. */
async function outgrow(): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS bulk`);
  await db.query(
    `CREATE TABLE bulk AS SELECT g AS id, encode(sha512(g::text::bytea), 'hex') AS v FROM generate_series(1, 150000) g`,
  );
}

async function shrink(): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS bulk`);
}

interface Outcome {
  attempts: number;
  codes: string[];
  finalCode: string | undefined;
  reason: string;
}

/** Runs a dump that cannot fit and checks that it changed nothing that was there before. */
async function failingDumps(stack: Stack, jobs: number): Promise<Outcome[]> {
  const before = await fileDigests(stack.config.backupDir);
  const outcomes: Outcome[] = [];
  for (let n = 0; n < jobs; n++) {
    const job = await enqueueDump(stack.queue, { target: TARGET }, { jobId: `full-${n}` });
    const done = await stack.settle(job.id!, 120_000);
    expect(await stack.queue.getJobState(job.id!)).toBe('failed');
    const codes = (await jobLog(stack.queue, job.id!)).flatMap((line) => {
      const match = /attempt \d+\/\d+ failed \([^)]*\): ([A-Z_]+): /.exec(line);
      return match ? [match[1]!] : [];
    });
    outcomes.push({
      attempts: codes.length,
      codes,
      finalCode: failureCode(done),
      reason: done.failedReason.slice(0, 300),
    });
    expect(failureCode(done)).toBe('DISK_FULL');
    expect(codes.every((code) => code === 'DISK_FULL')).toBe(true);
    // Nothing partial remains, and every byte of the older backup is as it was.
    expect(await partialFiles(stack.config.backupDir)).toEqual([]);
    expect(await fileDigests(stack.config.backupDir)).toEqual(before);
  }
  expect(await catalogProblems(stack.config.backupDir)).toEqual([]);
  // Retention runs on what is there: the failed dumps cost no backup.
  const prune = await enqueuePrune(
    stack.queue,
    { target: TARGET, origin: 'manual' },
    { jobId: 'prune-after-full' },
  );
  const pruned = await stack.settle(prune.id!, 60_000);
  expect(await stack.queue.getJobState(prune.id!), pruned.failedReason).toBe('completed');
  expect((pruned.returnvalue as { deleted: string[] }).deleted).toEqual([]);
  expect(await fileDigests(stack.config.backupDir)).toEqual(before);
  return outcomes;
}

async function firstBackup(stack: Stack): Promise<string> {
  const job = await enqueueDump(stack.queue, { target: TARGET }, { jobId: 'fits' });
  const done = await stack.settle(job.id!, 60_000);
  expect(await stack.queue.getJobState(job.id!), done.failedReason).toBe('completed');
  const backupId = (done.returnvalue as { backupId: string }).backupId;
  expect(await stack.finished(`verify-${backupId}-read`, 60_000)).toBe('completed');
  expect(await stack.finished(`prune-after-${backupId}`, 60_000)).toBe('completed');
  return backupId;
}

it.skipIf(!canMount)(
  'a 4 MB filesystem fills up mid-dump: DISK_FULL on every attempt, nothing partial, the older backup intact, prune deletes nothing',
  async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-reliability-disk-'));
    dirs.push(root);
    const disk = path.join(root, 'disk');
    await fs.mkdir(disk);
    expect(tryMount(disk, '4m')).toBe(true);
    mounts.push(disk);
    await shrink();
    stack = await createStack({
      DATABASE_URL: db.url,
      BACKUP_TARGET_NAME: TARGET,
      BACKUP_DIR: path.join(disk, 'backups'),
      BACKUP_LOG_DIR: path.join(root, 'logs'),
      BACKUP_ATTEMPTS: '2',
      BACKUP_BACKOFF: '200ms',
    });
    await stack.spawn();
    const older = await firstBackup(stack);
    await outgrow();
    const outcomes = await failingDumps(stack, 2);
    await verifyBackup({ backupDir: stack.config.backupDir, id: older, level: 'read', record: false });

    // A full disk while a verification is recorded: the manifest is rewritten atomically, so it
    // stays as it was (the job fails with DISK_FULL rather than leaving half a manifest).
    const before = await fileDigests(stack.config.backupDir);
    const filler = path.join(disk, 'filler');
    spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k', 'count=100'], { stdio: 'ignore' });
    const verify = await enqueueVerify(stack.queue, { backupId: older, level: 'checksum' });
    const verified = await stack.settle(verify.id!, 60_000);
    const fullVerifyCode = failureCode(verified) ?? (await stack.queue.getJobState(verify.id!));
    expect(await fileDigests(stack.config.backupDir)).toEqual(before);
    await fs.rm(filler);
    await umount(disk);
    results.tmpfs = { size: '4 MiB', failedDumps: outcomes, verifyWhileFull: fullVerifyCode };
  },
  180_000,
);

async function umount(dir: string): Promise<void> {
  await stack?.cleanup();
  stack = undefined;
  expect(spawnSync('umount', [dir]).status).toBe(0);
  mounts.splice(mounts.indexOf(dir), 1);
}

for (const ignoreSigxfsz of [true, false]) {
  it(`a file-size limit (ulimit -f, SIGXFSZ ${ignoreSigxfsz ? 'ignored by the wrapper' : 'left at default'}): EFBIG becomes DISK_FULL, the worker survives, nothing partial remains`, async () => {
    await shrink();
    stack = await createStack({
      DATABASE_URL: db.url,
      BACKUP_TARGET_NAME: TARGET,
      BACKUP_ATTEMPTS: '2',
      BACKUP_BACKOFF: '200ms',
    });
    // 2048 blocks of 1 KiB: the small dump fits, the grown one does not.
    const worker = await stack.spawn({}, { fileSizeLimitBlocks: 2048, ignoreSigxfsz });
    const older = await firstBackup(stack);
    await outgrow();
    const outcomes = await failingDumps(stack, 1);
    expect(worker.child.exitCode).toBeNull();
    expect(worker.child.signalCode).toBeNull();
    const listing = await listBackups(stack.config.backupDir, { target: TARGET });
    expect(listing.entries.map((entry) => entry.manifest.id)).toEqual([older]);
    results[ignoreSigxfsz ? 'ulimitTrapXfsz' : 'ulimitDefaultXfsz'] = {
      limit: '2048 KiB per file',
      failedDumps: outcomes,
      workerAlive: worker.child.exitCode === null,
    };
  }, 180_000);
}
