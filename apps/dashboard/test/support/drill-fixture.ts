import { createTestDatabase, PostgresServer, type TestDatabase } from '@pgbackup/testkit';
import { afterAll, beforeAll } from 'vitest';

/**
 * A private PostgreSQL server for drills, started before the file's tests and removed after
 * them. Returns its URL (for BACKUP_DRILL_DATABASE_URL), to call once the tests run.
 */
export function useDrillServer(): () => string {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await PostgresServer.start();
  }, 120_000);
  afterAll(async () => {
    await server?.destroy();
  });
  return () => server!.url('postgres');
}

/** A fresh database with an `orders` table of `rows` rows (id, note), something to back up and drill. */
export async function ordersDatabase(label: string, rows: number): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  await db.query(
    `CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, ${rows}) g`,
  );
  return db;
}
