/** What the global setup hands to every test file through vitest's provide/inject. */
export interface HarnessContext {
  /** Superuser URL to the `postgres` database of the test server. */
  pgAdminUrl: string;
  redisUrl: string;
  /** Database that every test database is created from. */
  templateDatabase: string;
  /** Prefix of every database this run creates, so an external server can be cleaned. */
  runId: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    harness: HarnessContext;
  }
}
