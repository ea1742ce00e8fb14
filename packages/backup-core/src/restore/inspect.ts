import { connect, type PgConnection, withDatabase } from '../postgres/connection.js';

/** What a database holds outside the system schemas: anything here makes it "not empty". */
export interface DatabaseContents {
  tables: number;
  partitionedTables: number;
  views: number;
  materializedViews: number;
  foreignTables: number;
  sequences: number;
  functions: number;
  types: number;
  largeObjects: number;
}

const labels: Record<keyof DatabaseContents, string> = {
  tables: 'table(s)',
  partitionedTables: 'partitioned table(s)',
  views: 'view(s)',
  materializedViews: 'materialized view(s)',
  foreignTables: 'foreign table(s)',
  sequences: 'sequence(s)',
  functions: 'function(s)',
  types: 'type(s)',
  largeObjects: 'large object(s)',
};

/** "2 table(s), 1 view(s)"; undefined when the database holds none of these. */
export function describeContents(contents: DatabaseContents | undefined): string | undefined {
  if (!contents) return undefined;
  const parts = (Object.keys(labels) as (keyof DatabaseContents)[])
    .filter((key) => contents[key] > 0)
    .map((key) => `${contents[key]} ${labels[key]}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

// System schemas, and the per-session temporary and TOAST schemas: never user data.
const userSchema = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`;

// Types a user created: not the row type every relation gets, not the array type every type
// gets, not the multirange every range gets (those are counted through what they belong to).
const contentsSql = `
SELECT
  count(*) FILTER (WHERE c.relkind = 'r') AS tables,
  count(*) FILTER (WHERE c.relkind = 'p') AS partitioned_tables,
  count(*) FILTER (WHERE c.relkind = 'v') AS views,
  count(*) FILTER (WHERE c.relkind = 'm') AS materialized_views,
  count(*) FILTER (WHERE c.relkind = 'f') AS foreign_tables,
  count(*) FILTER (WHERE c.relkind = 'S') AS sequences,
  (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${userSchema}) AS functions,
  (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE ${userSchema} AND t.typtype <> 'm' AND t.typcategory <> 'A'
      AND (t.typrelid = 0 OR (SELECT r.relkind FROM pg_class r WHERE r.oid = t.typrelid) = 'c')) AS types,
  (SELECT count(*) FROM pg_largeobject_metadata) AS large_objects
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ${userSchema}`;

interface ContentsRow {
  tables: string;
  partitioned_tables: string;
  views: string;
  materialized_views: string;
  foreign_tables: string;
  sequences: string;
  functions: string;
  types: string;
  large_objects: string;
}

/** Whether `database` exists on the server, and if so what it holds. */
export async function inspectDatabase(
  server: PgConnection,
  database: string,
): Promise<{ exists: boolean; contents?: DatabaseContents }> {
  const admin = await connect(server);
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) return { exists: false };
  } finally {
    await admin.end().catch(() => undefined);
  }
  const client = await connect(withDatabase(server, database));
  try {
    const { rows } = await client.query<ContentsRow>(contentsSql);
    const row = rows[0]!;
    return {
      exists: true,
      contents: {
        tables: Number(row.tables),
        partitionedTables: Number(row.partitioned_tables),
        views: Number(row.views),
        materializedViews: Number(row.materialized_views),
        foreignTables: Number(row.foreign_tables),
        sequences: Number(row.sequences),
        functions: Number(row.functions),
        types: Number(row.types),
        largeObjects: Number(row.large_objects),
      },
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
