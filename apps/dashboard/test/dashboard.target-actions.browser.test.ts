import { findBackup, isVerified, listBackups } from '@pgbackup/backup-core';
import { useCleanups, waitFor } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { launchChromium, screenshotPath } from './support/browser.js';
import { operator, viewer } from './support/config.js';
import { ordersDatabase, useDrillServer } from './support/drill-fixture.js';
import { request } from './support/http.js';
import { startBackupStack } from './support/stack.js';

const onClose = useCleanups();
const drillServerUrl = useDrillServer();

it('an operator clicks "Back up now" and sees the new backup with its chart point; a viewer has no button and gets 403', async () => {
  const db = await ordersDatabase('browser_target', 3000);
  const stack = await startBackupStack({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'shop',
    BACKUP_DRILL_DATABASE_URL: drillServerUrl(),
  });
  onClose(() => stack.close());
  // History for the charts: a backup and its drill, then a larger table and a second backup.
  await stack.backUp('shop');
  await stack.drill('shop');
  await db.query('INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(3001, 9000) g');

  const browser = await launchChromium();
  onClose(() => browser.close());
  const context = await browser.newContext({
    httpCredentials: { username: operator.user, password: operator.password },
    viewport: { width: 1400, height: 1000 },
  });
  const page = await context.newPage();
  // The page must work under the strict CSP with no script at all: any violation or error fails.
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));

  await page.goto(new URL('backups', stack.dashboard.url).toString());
  await page.locator('tr[data-target="shop"]').getByRole('link', { name: 'page' }).click();
  expect(new URL(page.url()).pathname).toBe('/targets/shop');
  expect(await page.locator('#chart-size circle[data-point]').count()).toBe(1);
  expect(await page.locator('#chart-restore circle[data-point]').count()).toBe(1);
  // The drill server's wal_level, which weighs on the RTO, beside the server (the harness default).
  expect(await page.locator('#target-drills').textContent()).toContain('wal_level replica');

  await page.getByRole('button', { name: 'Back up now' }).click();
  await page.locator('#notice').waitFor();
  const jobId = new URL(page.url()).searchParams.get('job')!;
  expect(jobId).not.toBe('');
  await stack.waitForJob(jobId, 'completed');
  const { entries } = await listBackups(stack.setup.config.backupDir, { target: 'shop' });
  const created = entries.find((entry) => entry.manifest.jobId === jobId)!.manifest;
  // Its verification follows the dump: wait for it, so the page shows the backup as verified.
  await waitFor('the new backup to be verified', async () =>
    isVerified((await findBackup(stack.setup.config.backupDir, created.id)).manifest),
  );
  // No script refreshes the page: the operator reloads it, as the notice says.
  await page.reload();
  const row = page.locator(`#target-backups tr[data-backup-id="${created.id}"]`);
  await row.waitFor();
  expect(await row.getAttribute('data-state')).toBe('verified');
  const point = page.locator(`#chart-size circle[data-point="${created.id}"]`);
  await point.waitFor({ state: 'attached' });
  expect(await page.locator('#chart-size circle[data-point]').count()).toBe(2);
  expect(await page.locator(`#chart-dump circle[data-point="${created.id}"]`).count()).toBe(1);
  await page.screenshot({ path: screenshotPath('dashboard-target.png'), fullPage: true });

  // Same origin only: no request left the dashboard.
  const origin = new URL(stack.dashboard.url).origin;
  expect(requests.filter((u) => new URL(u).origin !== origin)).toEqual([]);

  // A viewer sees the page and the charts, but no button; a post anyway is refused.
  const viewerContext = await browser.newContext({
    httpCredentials: { username: viewer.user, password: viewer.password },
  });
  const viewerPage = await viewerContext.newPage();
  await viewerPage.goto(new URL('targets/shop', stack.dashboard.url).toString());
  await viewerPage.locator(`#chart-size circle[data-point="${created.id}"]`).waitFor({ state: 'attached' });
  expect(await viewerPage.getByRole('button', { name: 'Back up now' }).count()).toBe(0);
  expect(await viewerPage.locator('form').count()).toBe(0);
  await viewerContext.close();
  const refused = await request(new URL('targets/shop/actions/backup', stack.dashboard.url).toString(), {
    as: viewer,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: 'csrf=anything',
  });
  expect(refused.status).toBe(403);

  expect(problems).toEqual([]);
}, 300_000);
