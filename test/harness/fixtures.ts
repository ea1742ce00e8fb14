import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { quoteIdent, withDatabase } from './database-url.js';
import type { HarnessContext } from './provided.js';

export function harness(): HarnessContext {
  return inject('harness');
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Runs SQL on this database through a short-lived connection. */
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<Row[]>;
}

let counter = 0;

/** A fresh, empty database on the test server, created from the run's template. */
export async function createTestDatabase(label = 'db'): Promise<TestDatabase> {
  const { pgAdminUrl, templateDatabase, runId } = harness();
  const name = `${runId}_${label.replace(/[^a-z0-9_]/gi, '').slice(0, 20)}_${process.pid}_${counter++}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(templateDatabase)}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(pgAdminUrl, name);
  return {
    name,
    url,
    async query(sql, params) {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
  };
}

/** A BullMQ prefix no other test uses, so queues never see each other's jobs. */
export function uniquePrefix(): string {
  return `bqt-${randomBytes(6).toString('hex')}`;
}

/** A name unique to this call, usable in a database or file name. */
export function uniqueName(label: string): string {
  return `${label}_${randomBytes(4).toString('hex')}`;
}
