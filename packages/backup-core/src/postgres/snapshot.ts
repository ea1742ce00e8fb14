import type pg from 'pg';
import { BackupError } from '../errors.js';
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

export interface SnapshotOptions {
  /**
   * Longest wait for a table lock (a running ALTER TABLE, say): the size and row-count queries
   * need the same lock as pg_dump, and a wait past this fails as DUMP_STALLED. Default: no limit.
   */
  lockTimeoutMs?: number;
  /** Cancels the query in progress; the export then fails as ABORTED. */
  signal?: AbortSignal;
}

function snapshotError(error: unknown, what: string, options: SnapshotOptions): BackupError {
  if (error instanceof BackupError) return error;
  const code = (error as { code?: string }).code;
  if (options.signal?.aborted) {
    return new BackupError('ABORTED', `dump aborted: ${String(options.signal.reason ?? 'cancelled')}`, {
      cause: error,
    });
  }
  if (code === '55P03') {
    return new BackupError(
      'DUMP_STALLED',
      `${what}: waited more than ${Math.round((options.lockTimeoutMs ?? 0) / 1000)} s for a table lock (held by another session, e.g. an ALTER TABLE): aborted`,
      { cause: error },
    );
  }
  return postgresError(error, what);
}

/**
 * Opens a repeatable-read transaction and exports its snapshot, so pg_dump (`--snapshot`) and
 * the row counts recorded in the manifest see exactly the same data.
 */
export async function exportSnapshot(
  connection: PgConnection,
  options: SnapshotOptions = {},
): Promise<ExportedSnapshot> {
  const client: pg.Client = await connect(connection);
  let backendPid: number | undefined;
  let inFlight = 0;
  // Ending a connection does not stop its backend waiting for a lock: cancel the query instead.
  const cancel = async () => {
    if (backendPid === undefined || inFlight === 0) return;
    const other = await connect(connection);
    try {
      await other.query('SELECT pg_cancel_backend($1)', [backendPid]);
    } finally {
      await other.end().catch(() => undefined);
    }
  };
  const onAbort = () => void cancel().catch(() => undefined);
  const run = async <Row extends pg.QueryResultRow>(sql: string, params?: unknown[]) => {
    options.signal?.throwIfAborted();
    inFlight++;
    try {
      return await client.query<Row>(sql, params);
    } finally {
      inFlight--;
    }
  };
  try {
    options.signal?.addEventListener('abort', onAbort, { once: true });
    options.signal?.throwIfAborted();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // Row counts run beside pg_dump: parallel workers would only compete with it for the same cores.
    await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
    if (options.lockTimeoutMs !== undefined && options.lockTimeoutMs > 0) {
      await client.query(`SET LOCAL lock_timeout = ${Math.ceil(options.lockTimeoutMs)}`);
    }
    const { rows } = await client.query<{ snapshot: string; version: string; num: string; pid: number }>(
      `SELECT pg_export_snapshot() AS snapshot, current_setting('server_version') AS version,
              current_setting('server_version_num') AS num, pg_backend_pid() AS pid`,
    );
    const row = rows[0]!;
    backendPid = row.pid;
    const size = await run<{ bytes: string | null }>(
      `SELECT sum(bytes)::bigint AS bytes FROM (${tablesSql}) t`,
    );
    return {
      estimatedBytes: Number(size.rows[0]?.bytes ?? 0),
      snapshotId: row.snapshot,
      serverVersion: row.version.split(' ')[0]!,
      serverMajor: Math.floor(Number(row.num) / 10000),
      async tables() {
        try {
          const list = await run<{ schema: string; name: string; bytes: string }>(tablesSql);
          const stats: TableStat[] = [];
          for (const table of list.rows) {
            const count = await run<{ n: string }>(
              `SELECT count(*) AS n FROM ONLY ${quoteIdent(table.schema)}.${quoteIdent(table.name)}`,
            );
            stats.push({
              schema: table.schema,
              name: table.name,
              rows: Number(count.rows[0]!.n),
              bytes: Number(table.bytes),
            });
          }
          return stats;
        } catch (error) {
          throw snapshotError(error, 'could not count the rows of the tables being dumped', options);
        }
      },
      async close() {
        options.signal?.removeEventListener('abort', onAbort);
        // A dump that failed or was aborted may leave a count running (or waiting for a lock):
        // COMMIT would queue behind it.
        await cancel().catch(() => undefined);
        await client.query('COMMIT').catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (error) {
    options.signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
    throw snapshotError(error, 'could not open a snapshot on the database to dump', options);
  }
}
