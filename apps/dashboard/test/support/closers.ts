import { afterEach } from 'vitest';

/** Things to stop after each test, last started first; a failure in one still runs the others. */
export function useClosers(): (close: () => unknown) => void {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    const errors: unknown[] = [];
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (close) => {
    closers.push(close);
  };
}
