import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isBackupError, loadConfig } from '@pgbackup/backup-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDashboardConfig } from './dashboard-section.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dashboard-section-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = { DATABASE_URL: 'postgresql://h/a' };
const load = (env: Record<string, string>) => loadDashboardConfig({ env: { ...base, ...env }, cwd: dir });

function problemOf(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    if (isBackupError(error, 'CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe("the dashboard's section", () => {
  it('has defaults: port 3000, base path /, user admin, no password (one is made up at start)', () => {
    expect(load({}).dashboard).toEqual({ port: 3000, basePath: '/', user: 'admin' });
  });

  it('reads passwords from variables or files', async () => {
    await writeFile(path.join(dir, 'viewer-password'), 'viewer-secret\n');
    expect(
      load({
        DASHBOARD_PORT: '8080',
        DASHBOARD_HOST: '0.0.0.0',
        DASHBOARD_BASE_PATH: '/ops/backups//',
        DASHBOARD_USER: 'root',
        DASHBOARD_PASSWORD: ' spaced password ',
        DASHBOARD_VIEWER_USER: 'viewer',
        DASHBOARD_VIEWER_PASSWORD_FILE: 'viewer-password',
      }).dashboard,
    ).toEqual({
      port: 8080,
      host: '0.0.0.0',
      basePath: '/ops/backups',
      user: 'root',
      password: ' spaced password ',
      viewerUser: 'viewer',
      viewerPassword: 'viewer-secret',
    });
  });

  it('reads its settings from the config file, a password there losing to a password file in the environment', async () => {
    await writeFile(path.join(dir, 'dash-password'), 'env-file-password\n');
    await writeFile(
      path.join(dir, 'dashboard.yaml'),
      'dashboardBasePath: /backups/\ndashboardPassword: file-password\n',
    );
    expect(load({ BACKUP_CONFIG: 'dashboard.yaml' }).dashboard).toMatchObject({
      basePath: '/backups',
      password: 'file-password',
    });
    expect(
      load({ BACKUP_CONFIG: 'dashboard.yaml', DASHBOARD_PASSWORD_FILE: 'dash-password' }).dashboard.password,
    ).toBe('env-file-password');
  });

  it('reads DASHBOARD_TRUST_PROXY as a hop count or a list of addresses and CIDR ranges', () => {
    const trustProxy = (value: string) => load({ DASHBOARD_TRUST_PROXY: value }).dashboard.trustProxy;
    expect(trustProxy('1')).toBe(1);
    expect(trustProxy(' 10.0.0.0/8, 127.0.0.1 ,fd00::/8,::1')).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      'fd00::/8',
      '::1',
    ]);
    expect(load({}).dashboard.trustProxy).toBeUndefined();
  });

  it('refuses half-configured accounts, in the same error as the rest of the configuration', async () => {
    await writeFile(path.join(dir, 'pw'), 'x\n');
    expect(problemOf({ DASHBOARD_PASSWORD: 'a', DASHBOARD_PASSWORD_FILE: 'pw' })).toBe(
      'DASHBOARD_PASSWORD_FILE: is set together with DASHBOARD_PASSWORD; expected only one of them',
    );
    expect(problemOf({ DASHBOARD_VIEWER_USER: 'viewer' })).toContain(
      'DASHBOARD_VIEWER_USER="viewer": is set without a viewer password',
    );
    expect(problemOf({ DASHBOARD_VIEWER_PASSWORD: 'v' })).toContain(
      'DASHBOARD_VIEWER_PASSWORD: is set without a viewer user; expected DASHBOARD_VIEWER_USER too',
    );
    expect(problemOf({ DASHBOARD_VIEWER_USER: 'admin', DASHBOARD_VIEWER_PASSWORD: 'v' })).toContain(
      'DASHBOARD_VIEWER_USER="admin": is the same as DASHBOARD_USER',
    );
    const both = problemOf({ DASHBOARD_VIEWER_USER: 'viewer', BACKUP_CONCURRENCY: 'lots' }).split('\n');
    expect(both).toHaveLength(2);
  });

  it('is not read by the worker and backupctl: their configuration has no dashboard, and a dashboard-only slip does not stop them', () => {
    const config = loadConfig({ env: { ...base, DASHBOARD_VIEWER_USER: 'viewer' }, cwd: dir });
    expect('dashboard' in config).toBe(false);
    // A value that cannot parse is still refused by every process: the variable table is shared.
    expect(() => loadConfig({ env: { ...base, DASHBOARD_PORT: '0' }, cwd: dir })).toThrow(
      'DASHBOARD_PORT="0": is below 1',
    );
  });
});
