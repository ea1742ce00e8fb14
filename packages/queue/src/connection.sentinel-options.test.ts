import { afterEach, describe, expect, it } from 'vitest';
import { createCommandConnection, createRedisConnection, type RedisAddress } from './connection.js';
import { SentinelRedis } from './sentinel-redis.js';

// The clients are created lazily and never connect: only the options handed to ioredis are read.
// Failover behaviour against real servers is in test/reliability/src/redis-sentinel*.test.ts.
const sentinel: RedisAddress = {
  url: 'sentinel://s1:26379,[::1]:26380/pgbackup',
  password: 'data-pw',
  sentinel: {
    nodes: [
      { host: 's1', port: 26379 },
      { host: '::1', port: 26380 },
    ],
    name: 'pgbackup',
    password: 'sentinel-pw',
    tls: false,
  },
};
const opened: Array<{ disconnect(): void }> = [];
afterEach(() => {
  for (const client of opened.splice(0)) client.disconnect();
});

describe('Sentinel options of the connection factory', () => {
  it('asks the sentinels for the group, with both passwords and the failover detector; BullMQ settings kept', () => {
    const client = createRedisConnection(sentinel, { lazyConnect: true });
    opened.push(client);
    expect(client).toBeInstanceOf(SentinelRedis);
    expect(client.options).toMatchObject({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'pgbackup',
      password: 'data-pw',
      sentinelPassword: 'sentinel-pw',
      failoverDetector: true,
      maxRetriesPerRequest: null,
    });
    expect(client.options.tls).toBeUndefined();
    // BullMQ's blocking connections are duplicates: they must keep the workaround.
    const duplicate = client.duplicate();
    opened.push(duplicate);
    expect(duplicate).toBeInstanceOf(SentinelRedis);
    expect(duplicate.options.sentinels).toEqual(client.options.sentinels);
  });

  it('passes TLS through to the sentinels and the data nodes with REDIS_SENTINEL_TLS', () => {
    const client = createCommandConnection({ ...sentinel, sentinel: { ...sentinel.sentinel!, tls: true } });
    opened.push(client);
    expect(client.options).toMatchObject({
      sentinelTLS: {},
      tls: {},
      enableTLSForSentinelMode: true,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
  });

  it('leaves a rediss:// URL to ioredis as before (TLS from the scheme), without Sentinel', () => {
    const client = createCommandConnection({ url: 'rediss://redis.example:6380', password: 'data-pw' });
    opened.push(client);
    expect(client).not.toBeInstanceOf(SentinelRedis);
    expect(client.options).toMatchObject({ host: 'redis.example', port: 6380, password: 'data-pw', tls: {} });
    expect(client.options.sentinels ?? undefined).toBeUndefined();
  });
});
