import type { BackupErrorCode } from '../errors.js';
import type { TableStat } from '../manifest.js';
import type { ScratchDatabase } from '../postgres/scratch.js';
import { finishedOrTerminated, startChild } from '../process/child.js';
import { tableKey } from '../verify/table-checks.js';

// pg_restore --verbose in parallel mode names each data item it has finished by the table's name
// alone (no schema), once its COPY has committed: nothing later in a restore changes its rows.
const finishedDataLine = /^pg_restore: finished item \d+ TABLE DATA (.+)$/;
// Information lines of --verbose; errors, warnings, their details and the TOC entry they arose
// in stay in the stderr tail.
const informationLine = /^pg_restore: (?!error:|warning:|detail:|hint:|while PROCESSING TOC|from TOC entry)/;

export interface ParallelRestoreOptions {
  /** Name of the pg_restore child in errors. */
  name: string;
  program: string;
  /** pg_restore's arguments, connection included, without --jobs and the archive. */
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  jobs: number;
  /** A seekable archive (seekable-archive.ts). */
  archive: string;
  classify: (stderr: string) => BackupErrorCode | undefined;
  /** The database restored into: its tables are counted there. */
  database: ScratchDatabase;
  /** The tables whose rows are counted (the manifest's). */
  tables: readonly TableStat[];
  signal?: AbortSignal;
}

/**
 * Runs `pg_restore --jobs N` on a seekable archive and counts each table's rows as soon as
 * pg_restore reports that table's data loaded, while it goes on with the other tables and the
 * index builds: the counts then fill time when one job is idle rather than all coming after the
 * restore (0.55 s at 800 MB, docs/benchmarks-restore.md). A table whose name is not unique among
 * `tables` (the same name in two schemas), or whose line was not seen, is counted after pg_restore
 * has exited. The job that loaded a table usually goes on with its primary key (ALTER TABLE ... ADD
 * CONSTRAINT, ACCESS EXCLUSIVE): the count (ACCESS SHARE, in a transaction of its own, holding
 * nothing else) and that build then wait for each other in turn, never in a cycle.
 * Resolves with every table's count (keyed by tableKey); pg_restore's failure, or a count's,
 * rejects, and never before the counting connections are closed.
 */
export async function restoreInParallelCounting(
  options: ParallelRestoreOptions,
): Promise<Map<string, number | undefined>> {
  const byName = new Map<string, TableStat[]>();
  for (const table of options.tables) byName.set(table.name, [...(byName.get(table.name) ?? []), table]);
  const counts = new Map<string, number | undefined>();
  let counting: Promise<void> = Promise.resolve();
  let countFailure: unknown;
  const countNow = (table: TableStat) => {
    counting = counting.then(async () => {
      if (countFailure !== undefined || counts.has(tableKey(table))) return;
      try {
        for (const [key, rows] of await options.database.countRows([table])) counts.set(key, rows);
      } catch (error) {
        countFailure = error;
      }
    });
  };
  const child = startChild(
    options.name,
    options.program,
    [...options.args, '--verbose', '--jobs', String(options.jobs), options.archive],
    {
      // The lines are matched in English.
      env: { ...options.env, LC_ALL: 'C', LANGUAGE: 'C', PG_COLOR: 'never' },
      stdio: ['ignore', 'ignore', 'pipe'],
      failureCode: 'RESTORE_FAILED',
      classify: options.classify,
      stderrLines: {
        pattern: informationLine,
        onLine: (line) => {
          const tables = byName.get(finishedDataLine.exec(line)?.[1] ?? '');
          if (tables?.length === 1) countNow(tables[0]!);
        },
      },
    },
  );
  try {
    await finishedOrTerminated(child, options.signal);
  } finally {
    await counting;
  }
  options.signal?.throwIfAborted();
  if (countFailure !== undefined) throw countFailure;
  const rest = options.tables.filter((table) => !counts.has(tableKey(table)));
  if (rest.length > 0)
    for (const [key, rows] of await options.database.countRows(rest)) counts.set(key, rows);
  return counts;
}
