import { useCleanups } from '@pgbackup/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDashboard, startDashboard } from '../src/index.js';
import { operator, testSetup, viewer } from './support/config.js';
import { makeFailedJob } from './support/failed-job.js';
import { request } from './support/http.js';

const onClose = useCleanups();

describe('authentication and roles', () => {
  const setup = testSetup();
  let dashboard: RunningDashboard;

  beforeAll(async () => {
    dashboard = await startDashboard(setup.config, { announce: () => undefined });
  });
  afterAll(async () => {
    await dashboard.close();
    setup.cleanup();
  });

  const url = (path: string) => new URL(path.replace(/^\//, ''), dashboard.url).toString();

  it('answers 401 with a Basic challenge when no credentials are sent', async () => {
    for (const path of ['/', '/backups', '/metrics', '/queues', '/queues/api/queues']) {
      const response = await request(url(path));
      expect(response.status, path).toBe(401);
      expect(response.headers.get('www-authenticate'), path).toMatch(
        /^Basic realm="[^"]+", charset="UTF-8"$/,
      );
    }
  });

  it('answers 401 to a wrong password, a wrong user and a malformed header', async () => {
    expect((await request(url('/backups'), { as: { user: operator.user, password: 'nope' } })).status).toBe(
      401,
    );
    expect(
      (await request(url('/backups'), { as: { user: 'root', password: operator.password } })).status,
    ).toBe(401);
    // The viewer's password does not open the operator's account.
    expect(
      (await request(url('/backups'), { as: { user: operator.user, password: viewer.password } })).status,
    ).toBe(401);
    expect((await request(url('/backups'), { headers: { authorization: 'Bearer abc' } })).status).toBe(401);
  });

  it('lets the operator and the viewer read every page', async () => {
    for (const who of [operator, viewer]) {
      const redirect = await request(url('/'), { as: who });
      expect(redirect.status).toBe(302);
      expect(redirect.headers.get('location')).toBe('/backups');
      for (const path of ['/backups', '/metrics', '/queues', '/queues/api/queues']) {
        const response = await request(url(path), { as: who });
        expect(response.status, `${who.user} ${path}`).toBe(200);
      }
    }
  });

  it('refuses a viewer any change (403) and lets the operator retry a failed job', async () => {
    const failed = await makeFailedJob(setup.config, 'app');
    onClose(failed.close);
    const retry = url(`/queues/api/queues/backups/${failed.job.id}/retry`);

    const asViewer = await request(retry, { as: viewer, method: 'PUT' });
    expect(asViewer.status).toBe(403);
    expect(await failed.queue.getJobState(failed.job.id!)).toBe('failed');
    for (const [method, path] of [
      ['PUT', '/queues/api/queues/backups/retry/failed'],
      ['PUT', '/queues/api/queues/backups/clean/failed'],
      ['PUT', '/queues/api/queues/backups/pause'],
      ['POST', '/queues/api/queues/backups/add'],
    ] as const) {
      const response = await request(url(path), {
        as: viewer,
        method,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status, `${method} ${path}`).toBe(403);
    }
    expect(await failed.queue.getJobState(failed.job.id!)).toBe('failed');
    expect(await failed.queue.isPaused()).toBe(false);

    // A browser request that another site triggered is refused even with operator credentials.
    const crossSite = await request(retry, {
      as: operator,
      method: 'PUT',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    expect(await failed.queue.getJobState(failed.job.id!)).toBe('failed');

    const asOperator = await request(retry, {
      as: operator,
      method: 'PUT',
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(asOperator.status).toBe(204);
    // No worker runs here, so the retried job waits.
    expect(await failed.queue.getJobState(failed.job.id!)).toBe('waiting');
  });

  it('shows the failure, its code and the job through the board API', async () => {
    const failed = await makeFailedJob(
      setup.config,
      'shop',
      'PG_DATABASE_MISSING: database "shop" does not exist',
    );
    onClose(failed.close);
    const response = await request(url(`/queues/api/queues/backups/${failed.job.id}`), { as: viewer });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { job: { failedReason: string; data: unknown } };
    expect(body.job.failedReason).toBe('PG_DATABASE_MISSING: database "shop" does not exist');
    expect(body.job.data).toMatchObject({ target: 'shop' });
  });

  it('sets the security headers, a CSP that allows no inline script', async () => {
    for (const path of ['/healthz', '/backups', '/queues']) {
      const response = await request(url(path), { as: operator });
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(response.headers.get('referrer-policy'), path).toBe('same-origin');
      expect(response.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('serves /healthz and /readyz without credentials', async () => {
    const health = await request(url('/healthz'));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', checks: { redis: 'ok' } });
    const ready = await request(url('/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { redis: 'ok', backupDir: 'ok' } });
  });
});

describe('failed-login limit', () => {
  async function dashboardWith(env: Record<string, string> = {}): Promise<string> {
    const setup = testSetup(env);
    onClose(() => setup.cleanup());
    const dashboard = await startDashboard(setup.config, { announce: () => undefined });
    onClose(() => dashboard.close());
    return new URL('backups', dashboard.url).toString();
  }
  const wrong = (attempt: number | string) => ({ user: operator.user, password: `guess-${attempt}` });

  it('never turns away the right password; wrong ones past 10 a minute wait and get 429', async () => {
    const backups = await dashboardWith();
    for (let attempt = 1; attempt <= 10; attempt++) {
      const response = await request(backups, { as: wrong(attempt) });
      expect(response.status, `attempt ${attempt}`).toBe(401);
    }
    // Ten more at once: each is held for the penalty second, then refused.
    const started = Date.now();
    const limited = await Promise.all(
      Array.from({ length: 10 }, (_, i) => request(backups, { as: wrong(11 + i) })),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    for (const response of limited) {
      expect(response.status).toBe(429);
      const retryAfter = Number(response.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // After 20 wrong logins from this address, the right password still gets in, at once.
    const rightStarted = Date.now();
    expect((await request(backups, { as: operator })).status).toBe(200);
    expect(Date.now() - rightStarted).toBeLessThan(500);
    // The right one does not lift the limit for wrong ones, and other accounts are not limited.
    expect((await request(backups, { as: wrong(21) })).status).toBe(429);
    expect((await request(backups, { as: { user: viewer.user, password: 'nope' } })).status).toBe(401);
    expect((await request(backups, { as: viewer })).status).toBe(200);
    // The health endpoints stay open to the monitoring that polls them.
    expect((await request(new URL('../healthz', backups).toString())).status).toBe(200);
  });

  it('ignores X-Forwarded-For without DASHBOARD_TRUST_PROXY: a spoofed one does not escape the limit', async () => {
    const backups = await dashboardWith();
    for (let attempt = 1; attempt <= 10; attempt++) {
      const response = await request(backups, {
        as: wrong(attempt),
        headers: { 'x-forwarded-for': `198.51.100.${attempt}` },
      });
      expect(response.status, `attempt ${attempt}`).toBe(401);
    }
    const spoofed = await request(backups, {
      as: wrong(11),
      headers: { 'x-forwarded-for': '198.51.100.99' },
    });
    expect(spoofed.status).toBe(429);
  });

  it.each(['1', '127.0.0.0/8,::1'])(
    'with DASHBOARD_TRUST_PROXY=%s the client address comes from X-Forwarded-For',
    async (trustProxy) => {
      const backups = await dashboardWith({ DASHBOARD_TRUST_PROXY: trustProxy });
      const from = (client: string) => ({ 'x-forwarded-for': client });
      for (let attempt = 1; attempt <= 10; attempt++) {
        const response = await request(backups, { as: wrong(attempt), headers: from('203.0.113.5') });
        expect(response.status, `attempt ${attempt}`).toBe(401);
      }
      expect((await request(backups, { as: wrong(11), headers: from('203.0.113.5') })).status).toBe(429);
      // Another client behind the same proxy is not limited by the first one's failures.
      expect((await request(backups, { as: wrong(12), headers: from('203.0.113.6') })).status).toBe(401);
      expect((await request(backups, { as: operator, headers: from('203.0.113.5') })).status).toBe(200);
    },
  );
});
