export { findBinary } from './binaries.js';
export { quoteIdent, withDatabase } from './database-url.js';
export { HarnessError } from './errors.js';
export { createTestDatabase, harness, type TestDatabase, uniqueName, uniquePrefix } from './fixtures.js';
export { freePort } from './free-port.js';
export { PostgresServer } from './postgres-server.js';
export type { HarnessContext } from './provided.js';
export { RedisServer, type RedisServerOptions } from './redis-server.js';
export { exited, waitFor } from './wait.js';
