import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from '../harness/vitest-config.js';

const shared = sharedTestConfig();
export default defineConfig({ ...shared, test: { ...shared.test, include: ['src/**/*.test.ts'] } });
