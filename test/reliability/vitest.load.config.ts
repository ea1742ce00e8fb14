import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../harness/vitest-config.js';

const shared = sharedTestConfig();
export default defineConfig({
  ...shared,
  test: { ...shared.test, include: ['src/**/*.load.test.ts'], testTimeout: 3_600_000 },
});
