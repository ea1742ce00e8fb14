import type { Manifest, TableStat } from '../manifest.js';

/**
 * Tables recorded at dump time whose data entry is missing from `pg_restore --list` output.
 * Entries look like `3345; 0 16390 TABLE DATA public accounts owner`; names are printed
 * unquoted, so a name is looked up as the exact text between `TABLE DATA ` and the owner.
 */
export function missingTables(manifest: Manifest, listing: string): string[] {
  const entries = listing
    .split('\n')
    .filter((line) => !line.startsWith(';'))
    .map((line) => {
      const at = line.indexOf(' TABLE DATA ');
      return at === -1 ? undefined : `${line.slice(at + ' TABLE DATA '.length)} `;
    })
    .filter((entry): entry is string => entry !== undefined);
  return manifest.tables
    .filter((table) => !entries.some((entry) => entry.startsWith(`${table.schema} ${table.name} `)))
    .map((table) => `${table.schema}.${table.name}`);
}

/**
 * `pg_restore --verbose` says `pg_restore: processing data for table "<schema>.<table>"` for each
 * table whose data it reads (unquoted names; pg_backup_archiver.c, the same text from PostgreSQL
 * 12 on, untranslated when run with LC_ALL=C and without colour with PG_COLOR=never).
 */
export const processingDataLine = /^pg_restore: processing data for table "(.*)"$/;

/**
 * Whether every recorded table is told apart in those lines: a dot, quote or line break in a
 * schema or table name could make two tables print the same text, and a name outside printable
 * ASCII is printed in the archive's encoding, which need not be UTF-8. Such backups keep the
 * `--list` pass, as before.
 */
export function dataLinesAreUnambiguous(manifest: Manifest): boolean {
  return manifest.tables.every((table) => !/[."]|[^\x20-\x7e]/.test(table.schema + table.name));
}

/** Tables recorded at dump time whose data pg_restore did not process (`schema.table` as printed). */
export function tablesNotProcessed(manifest: Manifest, processed: ReadonlySet<string>): string[] {
  return manifest.tables.map(tableKey).filter((key) => !processed.has(key));
}

/** Differences between the row counts taken at dump time and those found after a restore. */
export function compareRowCounts(
  manifest: Manifest,
  restored: ReadonlyMap<string, number | undefined>,
): string[] {
  const differences: string[] = [];
  for (const table of manifest.tables) {
    const key = tableKey(table);
    const found = restored.get(key);
    if (found === undefined) differences.push(`${key} is missing`);
    else if (found !== table.rows) differences.push(`${key} has ${found} rows, expected ${table.rows}`);
  }
  return differences;
}

export function tableKey(table: Pick<TableStat, 'schema' | 'name'>): string {
  return `${table.schema}.${table.name}`;
}
