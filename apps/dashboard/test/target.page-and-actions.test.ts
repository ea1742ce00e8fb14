import { listBackups } from '@pgbackup/backup-core';
import { createTestDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../src/index.js';
import { operator, viewer } from './support/config.js';
import { request } from './support/http.js';
import { type BackupStack, startBackupStack } from './support/stack.js';

let stack: BackupStack;
let backupId: string;

beforeAll(async () => {
  const db = await createTestDatabase('target_page');
  await db.query('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 500) g');
  stack = await startBackupStack({ DATABASE_URL: db.url, BACKUP_TARGET_NAME: 'app' });
  backupId = (await stack.backUp('app')).id;
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

const url = (path: string) => new URL(path, stack.dashboard.url).toString();
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };

async function operatorToken(): Promise<string> {
  const page = await (await request(url('targets/app'), { as: operator })).text();
  const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  expect(token).toBeDefined();
  return token!;
}

describe('the target page', () => {
  it('shows backups, drills, failed jobs and server-side SVG charts, with no script and the strict CSP', async () => {
    const response = await request(url('targets/app'), { as: operator });
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("script-src-attr 'none'");
    const page = await response.text();
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(page).toContain(`<tr data-backup-id="${backupId}"`);
    for (const chart of ['chart-size', 'chart-dump']) {
      expect(page).toMatch(new RegExp(`<svg id="${chart}"[^>]*>[\\s\\S]*data-point="${backupId}"`));
    }
    expect(page).toContain('Restore duration (drills): no data yet.');
    expect(page).toContain('No restore drill yet.');
    expect(page).toContain('No failed job.');
    for (const label of ['Back up now', 'Verify now', 'Drill now']) expect(page).toContain(label);
    // Without a drill server the drill button is there but disabled, saying why.
    expect(page).toMatch(/disabled title="no drill server[^"]*">Drill now/);
  });

  it('shows a viewer no buttons, and refuses a viewer’s post with 403', async () => {
    const page = await (await request(url('targets/app'), { as: viewer })).text();
    expect(page).toContain(`<tr data-backup-id="${backupId}"`);
    expect(page).not.toContain('<form');
    const token = await operatorToken();
    const posted = await request(url('targets/app/actions/backup'), {
      as: viewer,
      method: 'POST',
      headers: formHeaders,
      body: form({ csrf: token }),
    });
    expect(posted.status).toBe(403);
  });

  it('answers 404 for an unknown target and 400 for a malformed name', async () => {
    expect((await request(url('targets/nope'), { as: operator })).status).toBe(404);
    expect((await request(url('targets/..%2Fetc'), { as: operator })).status).toBe(400);
  });
});

describe('the actions', () => {
  it('refuse a post without the form token, with a wrong one, or from another site', async () => {
    const token = await operatorToken();
    const post = (body: string, headers: Record<string, string> = {}) =>
      request(url('targets/app/actions/backup'), {
        as: operator,
        method: 'POST',
        headers: { ...formHeaders, ...headers },
        body,
      });
    expect((await post('')).status).toBe(403);
    expect((await post(form({ csrf: `${token.slice(0, -2)}xx` }))).status).toBe(403);
    expect((await post(form({ csrf: token }), { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // Nothing was enqueued (the only pending job is the schedule's next dump).
    const pending = await stack.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    expect(pending.filter((job) => job.data.origin !== 'schedule')).toEqual([]);
  });

  it('"Back up now" enqueues a dump and redirects (303) to the page, which names the job', async () => {
    const token = await operatorToken();
    const posted = await request(url('targets/app/actions/backup'), {
      as: operator,
      method: 'POST',
      headers: { ...formHeaders, 'sec-fetch-site': 'same-origin' },
      body: form({ csrf: token }),
    });
    expect(posted.status).toBe(303);
    const location = new URL(posted.headers.get('location')!, stack.dashboard.url);
    expect(location.pathname).toBe('/targets/app');
    expect(location.searchParams.get('enqueued')).toBe('backup');
    const jobId = location.searchParams.get('job')!;
    await stack.waitForJob(jobId, 'completed');
    const page = await (await request(location.toString(), { as: operator })).text();
    expect(page).toContain(`Backup job <a href="/queues/queue/backups/${jobId}">${jobId}</a> enqueued`);
    const { entries } = await listBackups(stack.setup.config.backupDir, { target: 'app' });
    expect(entries.some((entry) => entry.manifest.jobId === jobId)).toBe(true);
  });

  it('accept a token from another dashboard on the same Redis (replicas, restarts), and post through it', async () => {
    const token = await operatorToken();
    // A second replica (or this one after a restart): the form secret is shared through Redis.
    const replica = await startDashboard(stack.setup.config, { announce: () => undefined });
    try {
      const page = await (
        await request(new URL('targets/app', replica.url).toString(), { as: operator })
      ).text();
      expect(/name="csrf" value="([^"]+)"/.exec(page)?.[1]).toBe(token);
      const posted = await request(new URL('targets/app/actions/backup', replica.url).toString(), {
        as: operator,
        method: 'POST',
        headers: formHeaders,
        body: form({ csrf: token }),
      });
      expect(posted.status).toBe(303);
      const jobId = new URL(posted.headers.get('location')!, replica.url).searchParams.get('job')!;
      await stack.waitForJob(jobId, 'completed');
    } finally {
      await replica.close();
    }
  });

  it('"Verify now" verifies the newest backup; "Drill now" without a drill server answers 409', async () => {
    const token = await operatorToken();
    const verify = await request(url('targets/app/actions/verify'), {
      as: operator,
      method: 'POST',
      headers: formHeaders,
      body: form({ csrf: token }),
    });
    expect(verify.status).toBe(303);
    const jobId = new URL(verify.headers.get('location')!, stack.dashboard.url).searchParams.get('job')!;
    expect(jobId).toMatch(/^verify-manual-/);
    await stack.waitForJob(jobId, 'completed');

    const drill = await request(url('targets/app/actions/drill'), {
      as: operator,
      method: 'POST',
      headers: formHeaders,
      body: form({ csrf: token }),
    });
    expect(drill.status).toBe(409);
    expect(await drill.text()).toContain('no drill server');
  });
});
