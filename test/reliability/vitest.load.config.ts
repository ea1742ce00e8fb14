import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../harness/vitest-config.js';

const shared = sharedTestConfig();
export default defineConfig({
  ...shared,
  test: {
    ...shared.test,
    include: ['src/**/*.load.test.ts'],
    testTimeout: 3_600_000,
    // One file after the other: each load test reports figures (makespan, memory, response
    // times) that the other's workers and databases would contend on the machine's cores.
    fileParallelism: false,
  },
});
