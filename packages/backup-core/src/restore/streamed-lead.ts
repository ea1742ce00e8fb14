import type { TableStat } from '../manifest.js';

/** A `pg_restore --list` line of a table's data: dump id, catalog oid, object oid, then the rest. */
const tableDataLine = /^\d+; \d+ \d+ TABLE DATA (.*)$/;

export interface LeadPlan {
  /** The tables loaded from a streamed decoding while the archive is decoded to a file. */
  lead: TableStat[];
  /** `--use-list` file of the streamed load: the lead tables' data entries. */
  leadList: string;
  /** `--use-list` file of the rest, the lead tables' data entries commented out. */
  restList: string;
  /** The tables whose data the rest loads. */
  rest: TableStat[];
}

/**
 * Which tables to load straight from the stream while the archive is being decoded to the file
 * that `pg_restore --jobs` needs: the first data entries of the archive, in its order (a stream
 * reaches them first, and pg_dump writes data blocks in list order), until they hold a
 * (jobs + 1)-th of the table data, so that the streamed load, still running when the parallel one
 * starts, is not what everything waits for at the end. At least the first entry, when it can be
 * told which table it is (a name shared in the list by two tables cannot); none when jobs is 1.
 */
export function planStreamedLead(list: string, tables: readonly TableStat[], jobs: number): LeadPlan {
  const lines = list.split('\n');
  const totalBytes = tables.reduce((sum, table) => sum + table.bytes, 0);
  const lead: TableStat[] = [];
  const leadLines = new Set<number>();
  let leadBytes = 0;
  for (const [index, line] of lines.entries()) {
    const described = tableDataLine.exec(line)?.[1];
    if (described === undefined) continue;
    const matches = tables.filter((table) => described.startsWith(`${table.schema} ${table.name} `));
    if (jobs <= 1 || matches.length !== 1) break;
    const table = matches[0]!;
    if (lead.length > 0 && (leadBytes + table.bytes) * (jobs + 1) > totalBytes) break;
    lead.push(table);
    leadLines.add(index);
    leadBytes += table.bytes;
  }
  return {
    lead,
    leadList: `${lines.filter((_line, index) => leadLines.has(index)).join('\n')}\n`,
    restList: `${lines.map((line, index) => (leadLines.has(index) ? `;${line}` : line)).join('\n')}\n`,
    rest: tables.filter((table) => !lead.includes(table)),
  };
}
