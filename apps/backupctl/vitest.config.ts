import { defineConfig } from 'vitest/config';
// A relative import: vitest bundles the config file, and a workspace package would be left
// for Node to load as untranspiled TypeScript.
import { sharedTestConfig } from '../../test/harness/vitest-config.js';

export default defineConfig(sharedTestConfig());
