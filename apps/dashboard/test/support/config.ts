import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { harness, uniquePrefix } from '@pgbackup/testkit';
import { type DashboardConfig, loadDashboardConfig } from '../../src/index.js';

export const operator = { user: 'admin', password: 'operator-secret' };
export const viewer = { user: 'viewer', password: 'viewer-secret' };

export interface TestSetup {
  config: DashboardConfig;
  dir: string;
  cleanup(): void;
}

/**
 * A configuration as a deployment would write it (through loadConfig and variables), on the
 * harness's Redis under a prefix of its own and in a fresh directory. The dashboard port is set
 * to 0 afterwards: the variable cannot say "any free port", a test needs exactly that.
 */
export function testSetup(env: Record<string, string | undefined> = {}): TestSetup {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-dashboard-'));
  mkdirSync(path.join(dir, 'backups'));
  const config = loadDashboardConfig({
    env: {
      BACKUP_DIR: path.join(dir, 'backups'),
      BACKUP_LOG_DIR: path.join(dir, 'logs'),
      REDIS_URL: harness().redisUrl,
      BACKUP_QUEUE_PREFIX: uniquePrefix(),
      BACKUP_HEALTH_PORT: '0',
      DASHBOARD_USER: operator.user,
      DASHBOARD_PASSWORD: operator.password,
      DASHBOARD_VIEWER_USER: viewer.user,
      DASHBOARD_VIEWER_PASSWORD: viewer.password,
      LOG_LEVEL: 'silent',
      ...env,
    },
    requireTargets: false,
  });
  return {
    config: { ...config, dashboard: { ...config.dashboard, port: 0 } },
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
