import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, harness, uniquePrefix } from './fixtures.js';
import { PostgresServer } from './postgres-server.js';
import { RedisServer } from './redis-server.js';

describe('test harness', () => {
  it('gives each test a fresh database that accepts queries', async () => {
    const a = await createTestDatabase('a');
    const b = await createTestDatabase('b');
    expect(a.name).not.toBe(b.name);
    await a.query('CREATE TABLE only_in_a (id int)');
    const [row] = await a.query<{ n: string }>('SELECT count(*) AS n FROM only_in_a');
    expect(row?.n).toBe('0');
    await expect(b.query('SELECT * FROM only_in_a')).rejects.toThrow(/does not exist/);
  });

  it('gives the shared Redis server and distinct prefixes', async () => {
    const redis = new Redis(harness().redisUrl);
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
    expect(uniquePrefix()).not.toBe(uniquePrefix());
  });

  it('kills and restarts a private PostgreSQL, keeping its data', async () => {
    const server = await PostgresServer.start();
    try {
      const connect = async () => {
        const client = new pg.Client({ connectionString: server.url() });
        client.on('error', () => undefined);
        await client.connect();
        return client;
      };
      let client = await connect();
      await client.query('CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$before crash$$)');
      await client.end();
      await server.kill();
      await expect(connect()).rejects.toThrow();
      await server.restart();
      client = await connect();
      const { rows } = await client.query('SELECT v FROM kept');
      await client.end();
      expect(rows).toEqual([{ v: 'before crash' }]);
    } finally {
      await server.destroy();
    }
  });

  it('keeps Redis data across kill -9 with AOF on, and loses it without', async () => {
    for (const aof of [true, false]) {
      const server = await RedisServer.start({ aof });
      try {
        const client = new Redis(server.url, { lazyConnect: true });
        await client.connect();
        await client.set('survives', 'yes');
        client.disconnect();
        // everysec: wait past one fsync so the write is on disk before the crash
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        await server.kill();
        await server.restart();
        const after = new Redis(server.url, { lazyConnect: true });
        await after.connect();
        expect(await after.get('survives')).toBe(aof ? 'yes' : null);
        after.disconnect();
      } finally {
        await server.destroy();
      }
    }
  });
});
