import pg from 'pg';
import { treeCpuMs } from './proc.js';
import type { Sample } from './sample.js';

/**
 * The row counts a dump job takes in its snapshot (`count(*)` of every table, one after the other,
 * in a REPEATABLE READ transaction), alone: what they cost the server, with PostgreSQL's default
 * plan (parallel workers when a table is large enough) or with parallel query off.
 */
export async function measureRowCounts(
  url: string,
  tables: readonly string[],
  postmasterPid: number,
  parallel: boolean,
): Promise<Sample & { workersPlanned: number }> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (!parallel) await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
    const plan = await client.query<{ 'QUERY PLAN': unknown }>(
      `EXPLAIN (FORMAT JSON) SELECT count(*) FROM ONLY public.${tables[0]}`,
    );
    const workersPlanned = Number(/"Workers Planned":\s*(\d+)/.exec(JSON.stringify(plan.rows[0]))?.[1] ?? 0);
    const serverBefore = treeCpuMs(postmasterPid);
    const started = performance.now();
    for (const table of tables) await client.query(`SELECT count(*) FROM ONLY public.${table}`);
    const wallMs = performance.now() - started;
    await client.query('COMMIT');
    return { wallMs, clientCpuMs: 0, serverCpuMs: treeCpuMs(postmasterPid) - serverBefore, workersPlanned };
  } finally {
    await client.end();
  }
}
