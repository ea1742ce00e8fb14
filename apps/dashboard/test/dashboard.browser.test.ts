import { randomBytes } from 'node:crypto';
import { connect, withDatabase as onDatabase, type PgConnection } from '@pgbackup/backup-core';
import { enqueueDump } from '@pgbackup/queue';
import { harness, quoteIdent, useCleanups, withDatabase } from '@pgbackup/testkit';
import { expect, it } from 'vitest';
import { launchChromium, screenshotPath } from './support/browser.js';
import { operator, viewer } from './support/config.js';
import { startBackupStack } from './support/stack.js';

const onClose = useCleanups();

async function query(connection: PgConnection, sql: string): Promise<void> {
  const client = await connect(connection);
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

it('shows a failed dump in Bull Board, retries it from the board once the database exists, and lists the backup', async () => {
  // A target whose database does not exist yet: its dump fails with PG_DATABASE_MISSING, at once.
  const { pgAdminUrl, runId, templateDatabase } = harness();
  const database = `${runId}_shop_${randomBytes(3).toString('hex')}`;
  const stack = await startBackupStack({
    DATABASE_URL: withDatabase(pgAdminUrl, database),
    BACKUP_TARGET_NAME: 'shop',
  });
  onClose(() => stack.close());
  const job = await enqueueDump(stack.queue, { target: 'shop' });
  const jobId = job.id!;
  await stack.waitForJob(jobId, 'failed');
  const failed = await stack.queue.getJob(jobId);
  expect(failed?.failedReason).toMatch(/^PG_DATABASE_MISSING: /);
  expect(failed?.attemptsMade).toBe(1);

  const browser = await launchChromium();
  onClose(() => browser.close());
  const context = await browser.newContext({
    httpCredentials: { username: operator.user, password: operator.password },
    viewport: { width: 1400, height: 900 },
  });
  const page = await context.newPage();
  // The CSP must let the board run: any violation but the Google Fonts stylesheet (refused on
  // purpose, see security-headers.ts) fails the test, as does any script error.
  const problems: string[] = [];
  page.on('console', (message) => {
    const text = message.text();
    if (text.includes('Content Security Policy') && !text.includes('fonts.googleapis.com'))
      problems.push(text);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

  await page.goto(new URL('queues/queue/backups?status=failed', stack.dashboard.url).toString());
  await page
    .getByText(/PG_DATABASE_MISSING: /)
    .first()
    .waitFor({ timeout: 30_000 });
  await page.getByText(`#${jobId}`, { exact: true }).first().waitFor();
  await page.screenshot({ path: screenshotPath('bull-board-failed-job.png') });

  // A viewer sees the same failure on a read-only board: no retry button to press.
  const viewerContext = await browser.newContext({
    httpCredentials: { username: viewer.user, password: viewer.password },
  });
  const viewerPage = await viewerContext.newPage();
  await viewerPage.goto(new URL('queues/queue/backups?status=failed', stack.dashboard.url).toString());
  await viewerPage
    .getByText(/PG_DATABASE_MISSING: /)
    .first()
    .waitFor({ timeout: 30_000 });
  expect(await viewerPage.locator('button:has(svg.lucide-refresh-cw)').count()).toBe(0);
  await viewerContext.close();

  const target = stack.setup.config.targets[0]!.connection;
  await query(
    onDatabase(target, 'postgres'),
    `CREATE DATABASE ${quoteIdent(database)} TEMPLATE ${quoteIdent(templateDatabase)}`,
  );
  await query(
    target,
    "CREATE TABLE orders (id serial PRIMARY KEY, note text); INSERT INTO orders (note) SELECT 'order ' || n FROM generate_series(1, 200) AS n",
  );

  // The board's retry button on the job card (a refresh icon), then its confirmation dialog.
  await page.locator('button:has(svg.lucide-refresh-cw)').first().click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await stack.waitForJob(jobId, 'completed');

  await page.goto(new URL(`queues/queue/backups/${jobId}`, stack.dashboard.url).toString());
  await page.getByText(`#${jobId}`, { exact: true }).first().waitFor({ timeout: 30_000 });
  await page
    .getByText(/Finished at|Completed at/i)
    .first()
    .waitFor({ timeout: 30_000 });
  await page.screenshot({ path: screenshotPath('bull-board-retried-job.png') });

  const backup = await stack.waitForVerifiedBackup('shop');
  expect(backup.jobId).toBe(jobId);
  await page.goto(stack.dashboard.url);
  expect(new URL(page.url()).pathname).toBe('/backups');
  const row = page.locator(`tr[data-backup-id="${backup.id}"]`);
  await row.waitFor();
  expect(await row.textContent()).toContain('verified');
  expect(await page.locator('tr[data-target="shop"]').getAttribute('data-health')).toBe('ok');
  await row.getByRole('link', { name: `job ${jobId}` }).waitFor();
  await page.screenshot({ path: screenshotPath('dashboard-backups.png'), fullPage: true });

  // The catalog's job link opens that job in Bull Board.
  await row.getByRole('link', { name: `job ${jobId}` }).click();
  await page.getByText(`#${jobId}`, { exact: true }).first().waitFor({ timeout: 30_000 });
  expect(new URL(page.url()).pathname).toBe(`/queues/queue/backups/${jobId}`);

  expect(problems).toEqual([]);
}, 240_000);
