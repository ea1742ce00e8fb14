import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { quoteIdent, withDatabase } from './database-url.js';
import { PostgresServer } from './postgres-server.js';
import type { HarnessContext } from './provided.js';
import { RedisServer } from './redis-server.js';

async function adminQuery(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Starts one private PostgreSQL cluster and one Redis server for the test run, unless
 * TEST_DATABASE_URL / TEST_REDIS_URL name servers to use instead.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `pgbt_${randomBytes(4).toString('hex')}`;
  const postgres = process.env.TEST_DATABASE_URL ? undefined : await PostgresServer.start();
  let redis: RedisServer | undefined;
  try {
    redis = process.env.TEST_REDIS_URL ? undefined : await RedisServer.start();
  } catch (error) {
    await postgres?.destroy();
    throw error;
  }
  const pgAdminUrl = postgres
    ? postgres.url('postgres')
    : withDatabase(process.env.TEST_DATABASE_URL!, 'postgres');
  const redisUrl = redis ? redis.url : process.env.TEST_REDIS_URL!;
  const templateDatabase = `${runId}_template`;
  await adminQuery(
    pgAdminUrl,
    `CREATE DATABASE ${quoteIdent(templateDatabase)} TEMPLATE template0 ENCODING 'UTF8'`,
  );

  const context: HarnessContext = { pgAdminUrl, redisUrl, templateDatabase, runId };
  project.provide('harness', context);

  return async () => {
    if (!postgres) {
      // An external server outlives the run: drop every database this run created.
      const { rows } = await adminQuery(
        pgAdminUrl,
        `SELECT datname FROM pg_database WHERE datname LIKE '${runId}%'`,
      );
      for (const row of rows) {
        await adminQuery(pgAdminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(row.datname)} WITH (FORCE)`);
      }
    }
    await redis?.destroy();
    await postgres?.destroy();
  };
}
