import { createTestDatabase, type TestDatabase } from '@pgbackup/testkit';

/**
 * The drill tests' source database: `accounts` (2,000 rows, a primary key) and `audit` (300 rows,
 * none), so a drill restores and counts two tables of different shapes.
 */
export async function drillSourceDatabase(label: string): Promise<TestDatabase> {
  const source = await createTestDatabase(label);
  await source.query(`
    CREATE TABLE public.accounts (id int PRIMARY KEY, note text NOT NULL);
    INSERT INTO public.accounts SELECT g, md5(g::text) FROM generate_series(1, 2000) g;
    CREATE TABLE public.audit (at timestamptz NOT NULL, what text);
    INSERT INTO public.audit SELECT now(), repeat('x', g % 30) FROM generate_series(1, 300) g;
  `);
  return source;
}
