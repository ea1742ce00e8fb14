import { defineConfig } from 'vitest/config';
import { sharedTestConfig } from './harness/vitest-config.js';

export default defineConfig(sharedTestConfig());
