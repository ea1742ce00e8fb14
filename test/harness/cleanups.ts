import { afterEach } from 'vitest';

/**
 * Things to stop after each test of the file (servers, fixtures, files), the last registered
 * first, so a fixture goes before the server it uses. A failure in one still runs the others;
 * the first failure is rethrown. Call at the top of a test file.
 */
export function useCleanups(): (cleanup: () => unknown) => void {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}
