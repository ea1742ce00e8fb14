import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

const harnessDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(harnessDir, '../..');

/**
 * The settings every package's tests share: the private servers of the global setup, the
 * workspace packages resolved to their TypeScript sources (no build needed to test), and
 * timeouts that suit real pg_dump runs on a two-core machine.
 */
export function sharedTestConfig(): ViteUserConfig {
  return {
    resolve: {
      // Exact names: a prefix alias for '@pgbackup/worker' would also rewrite '@pgbackup/worker/testing'.
      alias: [
        {
          find: /^@pgbackup\/backup-core$/,
          replacement: path.join(repoRoot, 'packages/backup-core/src/index.ts'),
        },
        {
          find: /^@pgbackup\/backup-core\/offsite$/,
          replacement: path.join(repoRoot, 'packages/backup-core/src/offsite/index.ts'),
        },
        {
          find: /^@pgbackup\/backup-core\/catalog$/,
          replacement: path.join(repoRoot, 'packages/backup-core/src/catalog-entry.ts'),
        },
        {
          find: /^@pgbackup\/backup-core\/verify-levels$/,
          replacement: path.join(repoRoot, 'packages/backup-core/src/verify/levels.ts'),
        },
        { find: /^@pgbackup\/dashboard$/, replacement: path.join(repoRoot, 'apps/dashboard/src/index.ts') },
        { find: /^@pgbackup\/queue$/, replacement: path.join(repoRoot, 'packages/queue/src/index.ts') },
        { find: /^@pgbackup\/worker$/, replacement: path.join(repoRoot, 'apps/worker/src/index.ts') },
        {
          find: /^@pgbackup\/worker\/testing$/,
          replacement: path.join(repoRoot, 'apps/worker/src/test-support/index.ts'),
        },
        {
          find: /^@pgbackup\/backupctl\/testing$/,
          replacement: path.join(repoRoot, 'apps/backupctl/src/test-support/index.ts'),
        },
        { find: /^@pgbackup\/testkit$/, replacement: path.join(harnessDir, 'index.ts') },
      ],
    },
    test: {
      globalSetup: [path.join(harnessDir, 'global-setup.ts')],
      include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'harness/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      maxWorkers: 2,
      teardownTimeout: 30_000,
    },
  };
}
