import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@pgbackup/backup-core';
import { RedisServer, uniquePrefix } from '@pgbackup/testkit';
import { startWorkerService } from '@pgbackup/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-support/run-cli.js';

/**
 * The compose files' Redis requires a password (requirepass), given to every client as
 * REDIS_PASSWORD_FILE. Against a real redis-server started with one: the worker and backupctl
 * log in with the file, and a wrong or missing password fails at once with REDIS_AUTH_FAILED
 * instead of waiting for a Redis that will never accept them.
 */

const secret = 'Rp4-distinctive-requirepass-9931';
let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await RedisServer.start({ password: secret });
  dir = await mkdtemp(path.join(tmpdir(), 'redis-password-'));
  await writeFile(path.join(dir, 'redis_password'), `${secret}\n`);
  await writeFile(path.join(dir, 'wrong_password'), 'not-the-password\n');
});
afterAll(async () => {
  await redis?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** No database is reached at start: a target is only needed for the configuration to load. */
const env = (extra: Record<string, string>) => ({
  DATABASE_URL: 'postgresql://app@127.0.0.1:1/app',
  REDIS_URL: redis.url,
  BACKUP_QUEUE_PREFIX: uniquePrefix(),
  BACKUP_DIR: path.join(dir, 'backups'),
  BACKUP_LOG_DIR: path.join(dir, 'logs'),
  BACKUP_HEALTH_PORT: '0',
  LOG_LEVEL: 'silent',
  ...extra,
});

describe('worker', () => {
  it('starts with REDIS_PASSWORD_FILE', async () => {
    const config = loadConfig({ env: env({ REDIS_PASSWORD_FILE: path.join(dir, 'redis_password') }) });
    expect(config.redis.password).toBe(secret);
    const service = await startWorkerService(config);
    await service.close();
  });

  it.each([
    ['a wrong password', { REDIS_PASSWORD_FILE: 'wrong_password' }, /WRONGPASS/],
    ['no password', {}, /NOAUTH/],
  ])(
    'refuses to start with %s: REDIS_AUTH_FAILED within seconds, not a wait',
    async (_what, extra, reply) => {
      const config = loadConfig({ env: env(extra), cwd: dir });
      const started = Date.now();
      const error = await startWorkerService(config).then(
        () => undefined,
        (failure: unknown) => failure as Error & { code?: string },
      );
      expect(error?.code).toBe('REDIS_AUTH_FAILED');
      expect(error?.message).toMatch(reply);
      expect(error?.message).toContain('REDIS_PASSWORD_FILE');
      expect(error?.message).not.toContain(secret);
      expect(Date.now() - started).toBeLessThan(10_000);
    },
  );
});

describe('backupctl', () => {
  it('reaches the queue with REDIS_PASSWORD_FILE', async () => {
    const result = await runCli(env({ REDIS_PASSWORD_FILE: path.join(dir, 'redis_password') }), ['jobs']);
    expect(result.code, result.stderr).toBe(0);
  });

  it('exits 2 with REDIS_AUTH_FAILED on a wrong password, without printing any password', async () => {
    const result = await runCli(
      env({ REDIS_PASSWORD_FILE: path.join(dir, 'wrong_password') }),
      ['jobs'],
      20_000,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('REDIS_AUTH_FAILED: Redis at redis://127.0.0.1:');
    expect(result.stderr).toContain('WRONGPASS');
    expect(result.stderr).not.toContain(secret);
    expect(result.stderr).not.toContain('not-the-password');
  });
});
