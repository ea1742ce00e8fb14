import {
  createBackupQueue,
  createRedisConnection,
  enqueueDump,
  enqueueRestore,
  QUEUE_NAME,
} from '@pgbackup/queue';
import { waitFor } from '@pgbackup/testkit';
import { type Job, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDashboard, startDashboard } from '../src/index.js';
import { operator, testSetup } from './support/config.js';
import { request } from './support/http.js';

const setup = testSetup();
const connection = createRedisConnection(setup.config.redis);
const queue = createBackupQueue(setup.config, connection);
let dashboard: RunningDashboard;
const restoreData = { backupId: '20261125T020000123Z-app-1a2b3c', database: 'app', force: true };
/** One job per state the guard cares about, made without the backup worker (see settle). */
const jobs = {} as Record<
  'failedRestore' | 'completedRestore' | 'delayedRestore' | 'failedDump' | 'completedDump' | 'delayedDump',
  Job
>;

/** Runs a stand-in worker until every listed job has completed or failed as asked. */
async function settle(outcomes: Map<string, 'completed' | 'failed'>): Promise<void> {
  const workerConnection = createRedisConnection(setup.config.redis);
  const worker = new Worker(
    QUEUE_NAME,
    async (job) => {
      if (outcomes.get(job.id!) === 'failed') throw new Error('RESTORE_FAILED: stand-in failure');
      return { ok: true };
    },
    { connection: workerConnection, prefix: setup.config.redis.prefix },
  );
  try {
    for (const [id, state] of outcomes) {
      await waitFor(`job ${id} to be ${state}`, async () => (await queue.getJobState(id)) === state, 30_000);
    }
  } finally {
    await worker.close();
    workerConnection.disconnect();
  }
}

beforeAll(async () => {
  jobs.failedRestore = await enqueueRestore(queue, restoreData);
  jobs.completedRestore = await enqueueRestore(queue, { ...restoreData, database: 'app_copy' });
  jobs.failedDump = await enqueueDump(queue, { target: 'app' }, { attempts: 1 });
  jobs.completedDump = await enqueueDump(queue, { target: 'shop' });
  await settle(
    new Map([
      [jobs.failedRestore.id!, 'failed'],
      [jobs.completedRestore.id!, 'completed'],
      [jobs.failedDump.id!, 'failed'],
      [jobs.completedDump.id!, 'completed'],
    ]),
  );
  // Added after the stand-in worker stopped, and an hour out: they stay delayed.
  jobs.delayedRestore = await enqueueRestore(
    queue,
    { ...restoreData, database: 'app_later' },
    { delay: 3_600_000 },
  );
  jobs.delayedDump = await enqueueDump(queue, { target: 'late' }, { delay: 3_600_000 });
  dashboard = await startDashboard(setup.config, { announce: () => undefined });
});

afterAll(async () => {
  await dashboard?.close();
  await queue.close();
  connection.disconnect();
  setup.cleanup();
});

const url = (path: string) => new URL(path.replace(/^\//, ''), dashboard.url).toString();
const api = `/queues/api/queues/${QUEUE_NAME}`;

function asOperator(method: string, path: string, body?: unknown): Promise<Response> {
  return request(url(path), {
    as: operator,
    method,
    headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function stateOf(job: Job): Promise<string> {
  return queue.getJobState(job.id!);
}

describe('Bull Board cannot replay a restore, or re-run a completed job, even for an operator', () => {
  it('refuses each per-job route on a restore job, and the job stays as it was', async () => {
    const cases: Array<[string, string, Job, unknown?]> = [
      ['PUT', `${api}/${jobs.failedRestore.id}/retry`, jobs.failedRestore],
      ['PUT', `${api}/${jobs.completedRestore.id}/retry`, jobs.completedRestore],
      ['PUT', `${api}/${jobs.delayedRestore.id}/promote`, jobs.delayedRestore],
      ['PATCH', `${api}/${jobs.delayedRestore.id}/delay`, jobs.delayedRestore, { runAt: Date.now() }],
      [
        'PATCH',
        `${api}/${jobs.failedRestore.id}/update-data`,
        jobs.failedRestore,
        { jobData: { ...restoreData, database: 'other' } },
      ],
      // Express matches routes case-insensitively and with a trailing slash; so does the guard.
      ['PUT', `/queues/API/queues/${QUEUE_NAME}/${jobs.failedRestore.id}/RETRY/`, jobs.failedRestore],
    ];
    for (const [method, path, job, body] of cases) {
      const before = await stateOf(job);
      const response = await asOperator(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(((await response.json()) as { message: string }).message).toMatch(
        /a restore runs at most once.*backupctl restore/,
      );
      expect(await stateOf(job), `${method} ${path}`).toBe(before);
    }
    expect((await queue.getJob(jobs.failedRestore.id!))?.data).toEqual(restoreData);
    expect(await stateOf(jobs.failedRestore)).toBe('failed');
    expect(await stateOf(jobs.completedRestore)).toBe('completed');
    expect(await stateOf(jobs.delayedRestore)).toBe('delayed');
  });

  it('refuses to add or duplicate a restore job', async () => {
    const before = await queue.getJobCountByTypes('waiting', 'delayed', 'failed', 'completed');
    const response = await asOperator('POST', `${api}/add`, {
      name: 'restore',
      data: restoreData,
      options: {},
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { message: string }).message).toMatch(
      /does not add or duplicate restore/,
    );
    expect(await queue.getJobCountByTypes('waiting', 'delayed', 'failed', 'completed')).toBe(before);
  });

  it('refuses to retry a completed job of any kind, alone or all at once', async () => {
    const one = await asOperator('PUT', `${api}/${jobs.completedDump.id}/retry`);
    expect(one.status).toBe(403);
    expect(((await one.json()) as { message: string }).message).toMatch(/is completed/);
    const all = await asOperator('PUT', `${api}/retry/completed`);
    expect(all.status).toBe(403);
    expect(await stateOf(jobs.completedDump)).toBe('completed');
    expect(await stateOf(jobs.completedRestore)).toBe('completed');
  });

  it('"retry all failed" retries every failed job but the restores', async () => {
    const response = await asOperator('PUT', `${api}/retry/failed`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      retried: 1,
      skipped: 1,
      skippedRestores: [jobs.failedRestore.id],
    });
    expect(await stateOf(jobs.failedRestore)).toBe('failed');
    expect(await stateOf(jobs.failedDump)).toBe('waiting');
  });

  it('"promote all" promotes every delayed job but the restores', async () => {
    const response = await asOperator('PUT', `${api}/promote`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ promoted: 1, skippedRestores: [jobs.delayedRestore.id] });
    expect(await stateOf(jobs.delayedRestore)).toBe('delayed');
    expect(await stateOf(jobs.delayedDump)).toBe('waiting');
  });

  it('still lets the operator add a dump and remove a restore job', async () => {
    const added = await asOperator('POST', `${api}/add`, {
      name: 'dump',
      data: { target: 'app' },
      options: {},
    });
    expect(added.status).toBe(200);
    const body = (await added.json()) as { job: { id: string; name: string; data: unknown } };
    expect(body.job).toMatchObject({ name: 'dump', data: { target: 'app' } });
    const removed = await asOperator('PUT', `${api}/${jobs.failedRestore.id}/clean`);
    expect(removed.status).toBe(204);
    expect(await queue.getJob(jobs.failedRestore.id!)).toBeUndefined();
  });
});
