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

/** Tables counted per query: one round trip for a small database, a bounded query text for a big one. */
const COUNTS_PER_QUERY = 200;

/** One query counting every table of `list`, in order: `count(*)` of each, appended (UNION ALL). */
function countsSql(list: Array<{ schema: string; name: string }>, offset: number): string {
  return list
    .map(
      (table, index) =>
        `SELECT ${offset + index} AS i, count(*) AS n FROM ONLY ${quoteIdent(table.schema)}.${quoteIdent(table.name)}`,
    )
    .join(' UNION ALL ');
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
  // Known from the connection's start-up (BackendKeyData): a cancel works from the first query on.
  const backendPid = (client as pg.Client & { processID?: number }).processID ?? undefined;
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
  const run = async <Row extends pg.QueryResultRow>(sql: string) => {
    options.signal?.throwIfAborted();
    inFlight++;
    try {
      return await client.query<Row>(sql);
    } finally {
      inFlight--;
    }
  };
  try {
    options.signal?.addEventListener('abort', onAbort, { once: true });
    options.signal?.throwIfAborted();
    // One round trip (a small database's dump is mostly fixed cost): the transaction, its
    // settings, the exported snapshot and, inside it, the tables pg_dump will write. Row counts run
    // beside pg_dump: parallel workers or a JIT compilation would only compete with it for the same cores.
    const lockTimeout =
      options.lockTimeoutMs !== undefined && options.lockTimeoutMs > 0
        ? `SET LOCAL lock_timeout = ${Math.ceil(options.lockTimeoutMs)};`
        : '';
    const results = (await run(
      `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
       SET LOCAL max_parallel_workers_per_gather = 0;
       SET LOCAL jit = off;
       ${lockTimeout}
       SELECT pg_export_snapshot() AS snapshot, current_setting('server_version') AS version,
              current_setting('server_version_num') AS num;
       ${tablesSql}`,
    )) as unknown as pg.QueryResult[];
    const row = results.at(-2)!.rows[0] as { snapshot: string; version: string; num: string };
    const list = (results.at(-1)!.rows as Array<{ schema: string; name: string; bytes: string }>).map(
      (table) => ({ schema: table.schema, name: table.name, bytes: Number(table.bytes) }),
    );
    return {
      estimatedBytes: list.reduce((sum, table) => sum + table.bytes, 0),
      snapshotId: row.snapshot,
      serverVersion: row.version.split(' ')[0]!,
      serverMajor: Math.floor(Number(row.num) / 10000),
      async tables() {
        try {
          const rows = new Array<number>(list.length);
          for (let offset = 0; offset < list.length; offset += COUNTS_PER_QUERY) {
            const chunk = list.slice(offset, offset + COUNTS_PER_QUERY);
            const counts = await run<{ i: number; n: string }>(countsSql(chunk, offset));
            for (const count of counts.rows) rows[Number(count.i)] = Number(count.n);
          }
          return list.map((table, index) => ({
            schema: table.schema,
            name: table.name,
            rows: rows[index]!,
            bytes: table.bytes,
          }));
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
        // The transaction is over: the socket's close (and the backend's exit) need not be waited for.
        client.end().catch(() => undefined);
      },
    };
  } catch (error) {
    options.signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
    throw snapshotError(error, 'could not open a snapshot on the database to dump', options);
  }
}
