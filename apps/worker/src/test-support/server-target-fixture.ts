import { PostgresServer, quoteIdent } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from './worker-fixture.js';

export interface ServerTargetFixture {
  server: PostgresServer;
  fixture: WorkerFixture;
  /** The worker fixture's cleanup, then the server's. */
  cleanup(): Promise<void>;
}

/**
 * A server target on a private cluster: `databases` created on it, `tableSql` run in each, and a
 * worker whose target `srv` discovers every database, on a schedule never due during a test (its
 * runs are the discover jobs the test adds, or `backupctl dump --target srv`). `env` comes last:
 * it may add to or override any of that.
 */
export async function serverTargetFixture(
  databases: readonly string[],
  env: Record<string, string> = {},
  tableSql = 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 20)',
): Promise<ServerTargetFixture> {
  const server = await PostgresServer.start();
  try {
    for (const name of databases) {
      await server.query('postgres', `CREATE DATABASE ${quoteIdent(name)}`);
      await server.query(name, tableSql);
    }
    const fixture = await workerFixture({
      DATABASE_URL: server.url('postgres'),
      BACKUP_TARGET_NAME: 'srv',
      BACKUP_DISCOVER: 'all',
      BACKUP_SCHEDULE: '0 0 1 1 *',
      ...env,
    });
    return {
      server,
      fixture,
      async cleanup() {
        await fixture.cleanup();
        await server.destroy();
      },
    };
  } catch (error) {
    await server.destroy();
    throw error;
  }
}
