import { connect } from '@pgbackup/backup-core';
import type { WorkerFixture } from '@pgbackup/worker/testing';

/** The rows of table `t` in `database`, on the server of the fixture's first target: what a restore brought back. */
export async function rowCount(fixture: WorkerFixture, database: string): Promise<number> {
  const client = await connect({ ...fixture.config.targets[0]!.connection, database });
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM t');
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}
