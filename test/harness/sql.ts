import pg from 'pg';

/**
 * Runs SQL on the database of `url` through a short-lived connection. Several statements may be
 * given at once (no parameters then); the rows returned are the last statement's.
 */
export async function runSql<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  sql: string,
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const result: pg.QueryResult<Row> | Array<pg.QueryResult<Row>> = await client.query<Row>(sql);
    return (Array.isArray(result) ? result.at(-1)! : result).rows;
  } finally {
    await client.end();
  }
}
