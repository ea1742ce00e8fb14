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
      alias: {
        '@pgbackup/backup-core': path.join(repoRoot, 'packages/backup-core/src/index.ts'),
        '@pgbackup/worker': path.join(repoRoot, 'apps/worker/src/index.ts'),
        '@pgbackup/testkit': path.join(harnessDir, 'index.ts'),
      },
    },
    test: {
      globalSetup: [path.join(harnessDir, 'global-setup.ts')],
      include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'harness/**/*.test.ts', 'e2e/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      maxWorkers: 2,
      teardownTimeout: 30_000,
    },
  };
}
