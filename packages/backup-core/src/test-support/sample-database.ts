import pg from 'pg';

/**
 * A database that exercises what pg_dump and pg_restore must carry: several schemas, enums,
 * domains, arrays, jsonb, bytea, large objects, a partitioned table, sequences, inheritance,
 * and non-ASCII identifiers.
 */
export const sampleSchemaSql = `
CREATE SCHEMA sales;
CREATE SCHEMA "Données";
CREATE TYPE sales.status AS ENUM ('new', 'paid', 'shipped');
CREATE DOMAIN sales.positive_money AS numeric(12,2) CHECK (VALUE > 0);
CREATE SEQUENCE sales.invoice_no START 1000;
CREATE TABLE sales.customers (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  profile jsonb,
  avatar bytea
);
CREATE TABLE sales.orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint REFERENCES sales.customers(id),
  status sales.status NOT NULL,
  amount sales.positive_money NOT NULL,
  invoice int NOT NULL DEFAULT nextval('sales.invoice_no'),
  placed_at timestamptz NOT NULL
);
CREATE TABLE public.events (id bigint, at date NOT NULL, payload text) PARTITION BY RANGE (at);
CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE "Données"."Clients été ☀" ("prénom" text, "âge" int);
CREATE TABLE public.animals (id int, name text);
CREATE TABLE public.cats (indoor boolean) INHERITS (public.animals);
CREATE TABLE public.documents (id int PRIMARY KEY, blob oid);
CREATE VIEW sales.paid_orders AS SELECT * FROM sales.orders WHERE status = 'paid';
`;

export const sampleDataSql = `
INSERT INTO sales.customers (name, tags, profile, avatar)
  SELECT 'customer ' || g, ARRAY['t' || (g % 7), 'x'], jsonb_build_object('n', g, 'nested', jsonb_build_object('ok', g % 2 = 0)),
         decode(md5(g::text), 'hex')
    FROM generate_series(1, 2000) g;
INSERT INTO sales.orders (customer_id, status, amount, placed_at)
  SELECT 1 + (g % 2000), (ARRAY['new','paid','shipped']::sales.status[])[1 + g % 3], (g % 500) + 0.5,
         '2026-01-01'::timestamptz + g * interval '1 minute'
    FROM generate_series(1, 5000) g;
INSERT INTO public.events SELECT g, DATE '2025-06-01' + (g % 400), repeat('e', g % 50) FROM generate_series(1, 3000) g;
INSERT INTO "Données"."Clients été ☀" VALUES ('Zoé', 31), ('Łukasz', 42), ('李', 27);
INSERT INTO public.animals VALUES (1, 'generic');
INSERT INTO public.cats VALUES (2, 'Minou', true), (3, 'Félix', false);
INSERT INTO public.documents SELECT g, lo_from_bytea(0, convert_to(repeat('large object ' || g, 100), 'UTF8')) FROM generate_series(1, 5) g;
SELECT setval('sales.invoice_no', 9000);
`;

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function loadSampleDatabase(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query(sampleSchemaSql);
    await client.query(sampleDataSql);
  });
}

/**
 * A digest of everything that matters in a database: every table's rows (order-independent),
 * sequence positions and large objects. Two databases with equal digests hold the same data.
 */
export async function databaseDigest(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const digest: Record<string, string> = {};
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
        ORDER BY 1, 2`,
    );
    for (const { schema, name } of tables.rows) {
      const q = `"${schema.replaceAll('"', '""')}"."${name.replaceAll('"', '""')}"`;
      const { rows } = await client.query(
        `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM ONLY ${q} t`,
      );
      digest[`table ${schema}.${name}`] = `${rows[0].n}:${rows[0].h}`;
    }
    const sequences = await client.query(
      `SELECT schemaname || '.' || sequencename AS name, last_value FROM pg_sequences ORDER BY 1`,
    );
    for (const row of sequences.rows) digest[`sequence ${row.name}`] = String(row.last_value);
    const objects = await client.query(
      `SELECT count(*) AS n, md5(coalesce(string_agg(md5(lo_get(oid)), '' ORDER BY md5(lo_get(oid))), '')) AS h FROM pg_largeobject_metadata`,
    );
    digest['large objects'] = `${objects.rows[0].n}:${objects.rows[0].h}`;
    const types = await client.query(
      `SELECT string_agg(t.typname, ',' ORDER BY t.typname) AS names FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'sales' AND t.typtype IN ('e', 'd')`,
    );
    digest['enums and domains'] = types.rows[0].names;
    return digest;
  });
}
