import type pg from 'pg';
import type { TableStat } from '../manifest.js';
import { connect, type PgConnection, postgresError } from './connection.js';

export interface ExportedSnapshot {
  snapshotId: string;
  /** e.g. "15.19" */
  serverVersion: string;
  serverMajor: number;
  /** Heap and TOAST size of the dumped tables: what pg_dump's output roughly amounts to. */
  estimatedBytes: number;
  /** Tables whose data pg_dump writes, with exact row counts taken inside the same snapshot. */
  tables(): Promise<TableStat[]>;
  /** Ends the transaction that keeps the snapshot alive; call after pg_dump has finished. */
  close(): Promise<void>;
}

// Ordinary tables (leaf partitions included) outside system schemas and not owned by an
// extension: exactly the ones pg_dump writes a TABLE DATA entry for.
const tablesSql = `
  SELECT n.nspname AS schema, c.relname AS name, pg_table_size(c.oid)::bigint AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'r'
     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
   ORDER BY 1, 2`;

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Opens a repeatable-read transaction and exports its snapshot, so pg_dump (`--snapshot`) and
 * the row counts recorded in the manifest see exactly the same data.
 */
export async function exportSnapshot(connection: PgConnection): Promise<ExportedSnapshot> {
  const client: pg.Client = await connect(connection);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ snapshot: string; version: string; num: string }>(
      `SELECT pg_export_snapshot() AS snapshot, current_setting('server_version') AS version,
              current_setting('server_version_num') AS num`,
    );
    const row = rows[0]!;
    const size = await client.query<{ bytes: string | null }>(
      `SELECT sum(bytes)::bigint AS bytes FROM (${tablesSql}) t`,
    );
    return {
      estimatedBytes: Number(size.rows[0]?.bytes ?? 0),
      snapshotId: row.snapshot,
      serverVersion: row.version.split(' ')[0]!,
      serverMajor: Math.floor(Number(row.num) / 10000),
      async tables() {
        try {
          const list = await client.query<{ schema: string; name: string; bytes: string }>(tablesSql);
          const stats: TableStat[] = [];
          for (const table of list.rows) {
            const count = await client.query<{ n: string }>(
              `SELECT count(*) AS n FROM ONLY ${quoteIdent(table.schema)}.${quoteIdent(table.name)}`,
            );
            stats.push({ schema: table.schema, name: table.name, rows: Number(count.rows[0]!.n), bytes: Number(table.bytes) });
          }
          return stats;
        } catch (error) {
          throw postgresError(error, 'could not count the rows of the tables being dumped');
        }
      },
      async close() {
        await client.query('COMMIT').catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw postgresError(error, 'could not open a snapshot on the database to dump');
  }
}
