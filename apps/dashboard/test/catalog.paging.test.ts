import type { TargetConfig } from '@pgbackup/backup-core';
import { createBackupQueue, createRedisConnection } from '@pgbackup/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_PAGE_SIZE } from '../src/pages/backups-page.js';
import { testSetup, viewer } from './support/config.js';
import { request } from './support/http.js';
import { writeTestManifest } from './support/manifests.js';
import { type ServedApp, serveApp } from './support/served-app.js';

// A fleet's catalog is tens of thousands of backups: the backups page shows it a page at a time,
// newest first, and every backup is on exactly one page.

const now = new Date('2026-11-25T12:00:00.000Z');
const hour = 3_600_000;
/** Two and a half pages over two targets: backups an hour apart, alternating target. */
const backupCount = CATALOG_PAGE_SIZE * 2 + CATALOG_PAGE_SIZE / 2;

describe('the backups page in pages', () => {
  const setup = testSetup({
    DATABASE_URL: 'postgresql://backup@127.0.0.1:5432/app',
    BACKUP_TARGET_NAME: 'app',
  });
  const app = setup.config.targets[0]!;
  const targets: TargetConfig[] = [app, { ...app, name: 'shop' }];
  const redis = createRedisConnection(setup.config.redis);
  const queue = createBackupQueue(setup.config, redis);
  let served: ServedApp | undefined;
  const newestFirst: string[] = [];

  beforeAll(async () => {
    for (let index = 0; index < backupCount; index++) {
      const manifest = await writeTestManifest(setup.config.backupDir, {
        target: index % 2 === 0 ? 'app' : 'shop',
        createdAt: new Date(now.getTime() - (index + 1) * hour).toISOString(),
      });
      newestFirst.push(manifest.id);
    }
    served = await serveApp({ config: { ...setup.config, targets }, queue, redis, now: () => now });
  });

  afterAll(async () => {
    await served?.close();
    await queue.close();
    await redis.quit();
    setup.cleanup();
  });

  async function get(query: string): Promise<Response> {
    return request(`${served!.base}/backups${query}`, { as: viewer });
  }

  async function idsOn(query: string): Promise<{ ids: string[]; html: string }> {
    const response = await get(query);
    expect(response.status, query).toBe(200);
    const html = await response.text();
    return { ids: [...html.matchAll(/data-backup-id="([^"]+)"/g)].map((match) => match[1]!), html };
  }

  it('walks every backup once, newest first, following the "older" links', async () => {
    const seen: string[] = [];
    let query = '';
    const visited: string[] = [];
    for (;;) {
      const { ids, html } = await idsOn(query);
      visited.push(query);
      expect(ids.length).toBeLessThanOrEqual(CATALOG_PAGE_SIZE);
      seen.push(...ids);
      const older = /<a href="\/backups\?(page=\d+)" rel="next">/.exec(html);
      if (!older) break;
      query = `?${older[1]}`;
    }
    expect(visited).toEqual(['', '?page=2', '?page=3']);
    expect(seen).toEqual(newestFirst);
  });

  it('says where a page is and links back to the newer ones', async () => {
    const { html } = await idsOn('?page=2');
    expect(html).toContain(`201–400 of ${backupCount} (page 2 of 3)`);
    expect(html).toContain('<a href="/backups" rel="first">newest</a>');
    expect(html).toContain('<a href="/backups" rel="prev">← newer</a>');
    expect(html).toContain('<a href="/backups?page=3" rel="last">oldest</a>');
    // The summary still counts every backup of every target, whatever the page.
    expect(html).toContain(`(${backupCount} backups, newest first)`);
    expect(html).toMatch(/data-target="app"[\s\S]*?>250 \/ 250</);
  });

  it("pages one target's backups with the target kept in the links", async () => {
    const { ids, html } = await idsOn('?target=app&page=2');
    const appOnly = newestFirst.filter((id) => id.includes('-app-'));
    expect(ids).toEqual(appOnly.slice(CATALOG_PAGE_SIZE));
    expect(html).toContain('<a href="/backups?target=app" rel="prev">← newer</a>');
    expect(html).not.toContain('rel="next"');
  });

  it('a page past the end (pruning shrank the catalog) shows none and links to the newest', async () => {
    const { ids, html } = await idsOn('?page=9');
    expect(ids).toEqual([]);
    expect(html).toContain('Page 9 is past the end: the catalog has 3 pages now.');
    expect(html).toContain('<a href="/backups?page=3" rel="prev">← newer</a>');
  });

  it('refuses a page that is not a whole number from 1, saying what was expected', async () => {
    for (const bad of ['0', '-1', '1.5', 'abc', '']) {
      const response = await get(`?page=${bad}`);
      expect(response.status, bad).toBe(400);
      expect(await response.text()).toMatch(/^page: expected a whole number from 1/);
    }
    const twice = await get('?page=1&page=2');
    expect(twice.status).toBe(400);
  });
});
