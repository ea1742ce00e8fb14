import type { TableStat } from '../manifest.js';
import { tableKey } from '../verify/table-checks.js';
import { connect, type PgConnection, postgresError, withDatabase } from './connection.js';

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export interface ScratchDatabase {
  name: string;
  /** Exact row counts of the given tables in the scratch database (undefined: no such table). */
  countRows(tables: readonly TableStat[]): Promise<Map<string, number | undefined>>;
  /** Drops it, terminating any connection left; safe to call twice. */
  drop(): Promise<void>;
}

/**
 * A database created from template0 for a test restore. Restoring runs SQL chosen by the source
 * database's superusers, so it only ever happens into a database made for that and then dropped.
 */
export async function createScratchDatabase(server: PgConnection, name: string): Promise<ScratchDatabase> {
  const admin = await connect(server);
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0 ENCODING 'UTF8'`);
  } catch (error) {
    throw postgresError(error, `could not create the scratch database ${name}`, 'SCRATCH_SERVER_FAILED');
  } finally {
    await admin.end().catch(() => undefined);
  }
  let dropped = false;
  return {
    name,
    async countRows(tables) {
      const client = await connect(withDatabase(server, name));
      const counts = new Map<string, number | undefined>();
      try {
        // Counted beside the restore's other jobs: parallel workers and a JIT compilation (a large
        // table's count is above jit_above_cost) would only take CPU from them, as in the dump's counts.
        await client.query('SET max_parallel_workers_per_gather = 0; SET jit = off');
        for (const table of tables) {
          const exists = await client.query('SELECT to_regclass($1) AS oid', [
            `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`,
          ]);
          if (exists.rows[0]?.oid === null) {
            counts.set(tableKey(table), undefined);
            continue;
          }
          const { rows } = await client.query<{ n: string }>(
            `SELECT count(*) AS n FROM ONLY ${quoteIdent(table.schema)}.${quoteIdent(table.name)}`,
          );
          counts.set(tableKey(table), Number(rows[0]!.n));
        }
      } finally {
        await client.end().catch(() => undefined);
      }
      return counts;
    },
    async drop() {
      if (dropped) return;
      const client = await connect(server);
      try {
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
        dropped = true;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}
