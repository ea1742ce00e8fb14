import fs from 'node:fs/promises';
import path from 'node:path';
import {
  findBackup,
  findTarget,
  isBackupError,
  listBackups,
  restoreBackup,
  verifyBackup,
} from '@pgbackup/backup-core';
import { enqueueDump } from '@pgbackup/queue';
import { createTestDatabase, waitFor } from '@pgbackup/testkit';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fileDigests } from './support/backup-dir.js';
import { recordResults } from './support/results.js';
import { createStack, failureCode, fastTakeoverOptions, type Stack } from './support/stack.js';

let stack: Stack;
let redis: Redis;
let pristine: string;
const observed: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const db = await createTestDatabase('badjobs');
  await db.query(`CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1000) g`);
  stack = await createStack({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'app',
    BACKUP_ATTEMPTS: '3',
    BACKUP_CONCURRENCY: '4',
  });
  redis = new Redis(stack.config.redis.url, { maxRetriesPerRequest: null });
  await stack.start(fastTakeoverOptions);
  const job = await enqueueDump(stack.queue, { target: 'app' }, { jobId: 'pristine' });
  expect(await stack.finished(job.id!)).toBe('completed');
  pristine = (await stack.queue.getJob(job.id!))!.returnvalue.backupId;
  expect(await stack.finished(`verify-${pristine}-read`)).toBe('completed');
  expect(await stack.finished(`prune-after-${pristine}`)).toBe('completed');
});

afterAll(async () => {
  recordResults('bad-input-jobs', { cases: observed });
  redis?.disconnect();
  await stack?.cleanup();
});

/** What the catalog says: ids and every recorded verification. */
async function catalog(): Promise<string> {
  const listing = await listBackups(stack.config.backupDir);
  return JSON.stringify(listing.entries.map((e) => [e.manifest.id, e.manifest.verifications]));
}

const big = 'x'.repeat(1 << 20);
const tenThousand = Array.from({ length: 10_000 }, (_, n) => `app${n}`);
const tenThousandKeys = Object.fromEntries(tenThousand.map((key) => [key, 1]));
const validButMissing = '20261125T020000123Z-app-1a2b3c';

/** [label, job name, data, expected code]. */
const payloads: Array<[string, string, unknown, string]> = [
  ['dump: target is a number', 'dump', { target: 42 }, 'JOB_DATA_INVALID'],
  ['dump: target is null', 'dump', { target: null }, 'JOB_DATA_INVALID'],
  ['dump: target is an array', 'dump', { target: ['app'] }, 'JOB_DATA_INVALID'],
  ['dump: target is an operator object', 'dump', { target: { $ne: '' } }, 'JOB_DATA_INVALID'],
  ['dump: no target', 'dump', {}, 'JOB_DATA_INVALID'],
  ['dump: an extra field', 'dump', { target: 'app', shell: 'rm -rf /' }, 'JOB_DATA_INVALID'],
  ['dump: target with a path', 'dump', { target: '../app' }, 'JOB_DATA_INVALID'],
  ['dump: unknown target', 'dump', { target: 'nope' }, 'TARGET_UNKNOWN'],
  ['dump: a 1 MiB target name', 'dump', { target: big }, 'JOB_DATA_INVALID'],
  ['dump: a 10k-element target', 'dump', { target: tenThousand }, 'JOB_DATA_INVALID'],
  ['dump: a 10k-key payload', 'dump', { target: 'app', ...tenThousandKeys }, 'JOB_DATA_INVALID'],
  ['dump: unknown origin', 'dump', { target: 'app', origin: 'cron' }, 'JOB_DATA_INVALID'],
  ['dump: data is a string', 'dump', 'app', 'JOB_DATA_INVALID'],
  ['dump: data is an array', 'dump', ['app'], 'JOB_DATA_INVALID'],
  ['verify: ../../etc/passwd', 'verify', { backupId: '../../etc/passwd' }, 'JOB_DATA_INVALID'],
  ['verify: id then ../', 'verify', { backupId: `${validButMissing}/../../x` }, 'JOB_DATA_INVALID'],
  ['verify: dir/id', 'verify', { backupId: `app/${validButMissing}` }, 'JOB_DATA_INVALID'],
  ['verify: ..', 'verify', { backupId: '..' }, 'JOB_DATA_INVALID'],
  ['verify: absolute path', 'verify', { backupId: '/etc/passwd' }, 'JOB_DATA_INVALID'],
  ['verify: backslash', 'verify', { backupId: '20261125T020000123Z-app\\..-1a2b3c' }, 'JOB_DATA_INVALID'],
  ['verify: NUL byte', 'verify', { backupId: `${validButMissing}\u0000` }, 'JOB_DATA_INVALID'],
  ['verify: a 1 MiB id', 'verify', { backupId: big }, 'JOB_DATA_INVALID'],
  ['verify: id is a number', 'verify', { backupId: 123 }, 'JOB_DATA_INVALID'],
  ['verify: well-formed, missing', 'verify', { backupId: validButMissing }, 'BACKUP_NOT_FOUND'],
  [
    'verify: dots in the target part',
    'verify',
    { backupId: '20261125T020000123Z-a..b-1a2b3c' },
    'BACKUP_NOT_FOUND',
  ],
  ['verify: unknown level', 'verify', { backupId: validButMissing, level: 'everything' }, 'JOB_DATA_INVALID'],
  ['prune: dryRun is text', 'prune', { target: 'app', dryRun: 'yes' }, 'JOB_DATA_INVALID'],
  ['prune: unknown target', 'prune', { target: 'nope' }, 'TARGET_UNKNOWN'],
  ['restore: id with a path', 'restore', { backupId: '../x', database: 'd' }, 'JOB_DATA_INVALID'],
  [
    'restore: database is a number',
    'restore',
    { backupId: validButMissing, database: 5 },
    'JOB_DATA_INVALID',
  ],
  [
    'restore: force is text',
    'restore',
    { backupId: validButMissing, database: 'd', force: 'true' },
    'JOB_DATA_INVALID',
  ],
  [
    'restore: serverTarget with a path',
    'restore',
    { backupId: validButMissing, database: 'd', serverTarget: '../../etc' },
    'JOB_DATA_INVALID',
  ],
  [
    'restore: 64-character database',
    'restore',
    { backupId: validButMissing, database: 'd'.repeat(64) },
    'JOB_DATA_INVALID',
  ],
  [
    'restore: unknown serverTarget',
    'restore',
    { backupId: validButMissing, database: 'd', serverTarget: 'nope' },
    'TARGET_UNKNOWN',
  ],
  ['unknown job name', 'rm-rf', { target: 'app' }, 'JOB_NAME_UNKNOWN'],
];

it(`${payloads.length} malformed job payloads added with queue.add each fail at once with a clear code and change nothing`, async () => {
  const filesBefore = await fileDigests(stack.config.backupDir);
  const catalogBefore = await catalog();
  const jobs: Array<[string, Job, string]> = [];
  for (const [label, name, data, code] of payloads) {
    // Straight into Redis, as a buggy client, a hand-written command or an attacker with Redis access would.
    jobs.push([label, await stack.queue.add(name, data as never), code]);
  }
  for (const [label, job, code] of jobs) {
    const done = await stack.settle(job.id!);
    const reason = done.failedReason ?? '';
    observed.push({
      kind: 'queue.add',
      label,
      code: failureCode(done),
      reasonLength: reason.length,
      reason: reason.slice(0, 160),
    });
    expect(await stack.queue.getJobState(job.id!), label).toBe('failed');
    expect(failureCode(done), `${label}: ${reason.slice(0, 300)}`).toBe(code);
    // Retrying cannot fix bad input: one attempt.
    expect(done.attemptsMade, label).toBe(1);
    // A clear error is a short one: the value is never echoed back in full.
    expect(reason.length, `${label}: ${reason.length} characters`).toBeLessThan(2_000);
  }
  expect(await fileDigests(stack.config.backupDir)).toEqual(filesBefore);
  expect(await catalog()).toBe(catalogBefore);
}, 120_000);

it('backup ids with path separators or .. are refused by findBackup, verifyBackup and restoreBackup before any file is touched', async () => {
  const filesBefore = await fileDigests(stack.config.backupDir);
  const ids = [
    '../../etc/passwd',
    `${pristine}/../../x`,
    `app/${pristine}`,
    '..',
    '/etc/passwd',
    `..\\${pristine}`,
    `${pristine}\u0000`,
    '',
    big,
  ];
  for (const id of ids) {
    const attempts = [
      findBackup(stack.config.backupDir, id),
      verifyBackup({ backupDir: stack.config.backupDir, id, level: 'checksum' }),
      restoreBackup({
        backupDir: stack.config.backupDir,
        logDir: stack.config.logDir,
        id,
        to: { ...stack.config.targets[0]!.connection, database: 'never_created' },
      }),
    ];
    for (const attempt of attempts) {
      const error = await attempt.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(isBackupError(error, 'BACKUP_ID_INVALID'), `${JSON.stringify(id.slice(0, 40))}: ${error}`).toBe(
        true,
      );
      expect((error as Error).message.length).toBeLessThan(2_000);
    }
  }
  observed.push({
    kind: 'findBackup/verifyBackup/restoreBackup',
    ids: ids.length,
    code: 'BACKUP_ID_INVALID',
  });
  // findTarget with a 1 MiB name: refused, but see its message length.
  let unknown: unknown;
  try {
    findTarget(stack.config, big);
  } catch (error) {
    unknown = error;
  }
  expect(isBackupError(unknown, 'TARGET_UNKNOWN')).toBe(true);
  observed.push({
    kind: 'findTarget',
    label: 'a 1 MiB target name',
    code: 'TARGET_UNKNOWN',
    messageLength: (unknown as Error).message.length,
  });
  expect(await fileDigests(stack.config.backupDir)).toEqual(filesBefore);
});

it('a crafted manifest that names a file outside its directory is refused by verify, restore and prune, and the file it names survives', async () => {
  const decoy = path.join(stack.dir, 'decoy.txt');
  await fs.writeFile(decoy, 'not a backup\n');
  const entry = await findBackup(stack.config.backupDir, pristine);
  const craftedId = pristine.replace(/-[0-9a-f]{6}$/, '-0bad00');
  const crafted = path.join(path.dirname(entry.manifestPath), `${craftedId}.manifest.json`);
  await fs.writeFile(
    crafted,
    JSON.stringify({ ...entry.manifest, id: craftedId, file: '../../decoy.txt', verifications: [] }),
  );
  const codes: Record<string, string | undefined> = {};
  for (const [name, data] of [
    ['verify', { backupId: craftedId, level: 'checksum' }],
    ['restore', { backupId: craftedId, database: 'never_created', force: true }],
    ['prune', { target: 'app' }],
  ] as const) {
    const job = await stack.queue.add(name, data);
    const done = await stack.settle(job.id!);
    codes[name] = failureCode(done) ?? (await stack.queue.getJobState(job.id!));
  }
  expect(codes).toEqual({ verify: 'MANIFEST_INVALID', restore: 'MANIFEST_INVALID', prune: 'completed' });
  expect(await fs.readFile(decoy, 'utf8')).toBe('not a backup\n');
  const listing = await listBackups(stack.config.backupDir);
  expect(listing.problems.map((p) => p.path)).toEqual([crafted]);
  observed.push({ kind: 'crafted manifest', label: 'file: ../../decoy.txt', codes });
  await fs.rm(crafted);
});

it('job hashes edited with raw HSET: wrong shapes fail with a clear code; hashes that are not JSON never run and change nothing', async () => {
  const filesBefore = await fileDigests(stack.config.backupDir);
  // No worker runs while the hashes are edited: none may take a job before its edit.
  for (const service of stack.services.splice(0)) await service.close();
  const key = (id: string) => `${stack.config.redis.prefix}:backups:${id}`;
  // [label, fields written over a valid dump job, what must become of it]
  const edits: Array<[string, Record<string, string>, string]> = [
    ['data is a JSON string', { data: '"app"' }, 'JOB_DATA_INVALID'],
    ['data sets __proto__', { data: '{"target":"app","__proto__":{"polluted":true}}' }, 'JOB_DATA_INVALID'],
    ['name changed to restore', { name: 'restore' }, 'JOB_DATA_INVALID'],
    ['name changed to an unknown job', { name: 'shell' }, 'JOB_NAME_UNKNOWN'],
    // BullMQ reads options loosely: a text attempts count is ignored and the (valid) dump runs.
    ['opts with attempts as text', { opts: '{"attempts":"many"}' }, 'completed'],
    // BullMQ parses these before any code of ours runs (see docs/reliability.md): never processed.
    ['data is not JSON', { data: '{not json' }, 'never-runs'],
    ['opts are not JSON', { opts: '{not json' }, 'never-runs'],
  ];
  const jobs: Array<[string, string, string]> = [];
  for (const [n, [label, fields, expected]] of edits.entries()) {
    const job = await stack.queue.add('dump', { target: 'app' }, { jobId: `hset-${n}` });
    await redis.hset(key(job.id!), fields);
    jobs.push([label, job.id!, expected]);
  }
  await stack.start(fastTakeoverOptions);
  const produced: string[] = [];
  for (const [label, id, expected] of jobs) {
    if (expected === 'never-runs') {
      // It goes active, cannot be read, stalls, and is taken again: watch it loop three times.
      await waitFor(
        `${label} to be retaken after stalling`,
        async () => Number(await redis.hget(key(id), 'stc')) >= 3,
        60_000,
      );
      expect(await redis.hget(key(id), 'finishedOn')).toBeNull();
      expect(await redis.hget(key(id), 'returnvalue')).toBeNull();
    } else if (expected === 'completed') {
      expect(await stack.finished(id)).toBe('completed');
      produced.push((await stack.queue.getJob(id))!.returnvalue.backupId);
    } else {
      const done = await stack.settle(id);
      expect(failureCode(done), `${label}: ${done.failedReason}`).toBe(expected);
      expect(done.attemptsMade).toBe(1);
    }
    const raw = await redis.hgetall(key(id));
    observed.push({
      kind: 'HSET',
      label,
      state: await stack.queue.getJobState(id),
      code: raw.failedReason ? /^([A-Z_]+):/.exec(raw.failedReason)?.[1] : undefined,
      stalledCounter: Number(raw.stc ?? 0),
      attemptsStarted: Number(raw.ats ?? 0),
    });
  }
  // The worker still takes and completes a good job.
  const good = await stack.queue.add('dump', { target: 'app' }, { jobId: 'after-hset' });
  expect(await stack.finished(good.id!)).toBe('completed');
  produced.push((await stack.queue.getJob(good.id!))!.returnvalue.backupId);
  for (const backupId of produced) {
    expect(await stack.finished(`verify-${backupId}-read`)).toBe('completed');
    expect(await stack.finished(`prune-after-${backupId}`)).toBe('completed');
  }
  // Every file that was there is unchanged; the only new ones belong to the two valid dumps.
  const after = await fileDigests(stack.config.backupDir);
  for (const [file, digest] of Object.entries(filesBefore)) expect(after[file], file).toBe(digest);
  const added = Object.keys(after).filter((file) => !(file in filesBefore));
  expect(added.filter((file) => !produced.some((id) => file.includes(id)))).toEqual([]);
  expect(added).toHaveLength(2 * produced.length);
}, 180_000);
