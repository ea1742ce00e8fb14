import { createTestDatabase, S3Server, type TestDatabase } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from './worker-fixture.js';

export interface OffsiteFixture {
  s3: S3Server;
  db: TestDatabase;
  fixture: WorkerFixture;
  /** The worker fixture's cleanup, then the S3 server's. */
  cleanup(): Promise<void>;
}

/**
 * The offsite tests' setup: an S3 server with a `backups` bucket, a fresh database (`tableSql`
 * run in it first, when given) and a worker backing it up as target `shop`, copying to the
 * bucket as destination `s3`. `env` comes last: it may add to or override any of that.
 */
export async function offsiteFixture(
  label: string,
  env: Record<string, string> = {},
  tableSql?: string,
): Promise<OffsiteFixture> {
  const s3 = await S3Server.start({ buckets: ['backups'] });
  try {
    const db = await createTestDatabase(label);
    if (tableSql !== undefined) await db.query(tableSql);
    const fixture = await workerFixture({
      DATABASE_URL: db.url,
      BACKUP_TARGET_NAME: 'shop',
      ...s3.destinationEnv(),
      ...env,
    });
    return {
      s3,
      db,
      fixture,
      async cleanup() {
        await fixture.cleanup();
        await s3.destroy();
      },
    };
  } catch (error) {
    await s3.destroy();
    throw error;
  }
}
