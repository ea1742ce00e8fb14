import { waitFor, withDatabase } from '@pgbackup/testkit';
import { withClient } from './sample-database.js';

async function restoreDatabases(url: string): Promise<Set<string>> {
  return withClient(withDatabase(url, 'postgres'), async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, 'pgbackup_restore_') OR starts_with(datname, 'pgbackup_replaced_')`,
    );
    return new Set(rows.map((row) => row.datname));
  });
}

/**
 * Staging and set-aside databases are named by random hex only, so a test cannot tell its own
 * from those of a restore running in another test file at the same time. This takes the list
 * before, and afterwards waits for every name that appeared since to be gone again: another
 * file's staging database goes within seconds, a leftover never does.
 */
export async function restoreLeftovers(url: string): Promise<{ check(): Promise<string[]> }> {
  const before = await restoreDatabases(url);
  return {
    async check() {
      let left: string[] = [];
      await waitFor(
        'staging databases to be dropped',
        async () => {
          left = [...(await restoreDatabases(url))].filter((name) => !before.has(name));
          return left.length === 0;
        },
        20_000,
      ).catch(() => undefined);
      return left;
    },
  };
}
