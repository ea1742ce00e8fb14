import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { enqueueDump } from '@pgbackup/queue';
import { PostgresServer, waitFor } from '@pgbackup/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordResults } from './support/results.js';
import { createStack, failureCode, type Stack } from './support/stack.js';
import type { WorkerProcess } from './support/worker-process.js';

const run = promisify(execFile);

// Distinctive, with characters a URL must percent-encode, so an encoded copy would be found too.
const rightPassword = `Pw-${randomBytes(6).toString('hex')}!#Zq`;
const wrongPassword = `Wrong-${randomBytes(6).toString('hex')}!#Xy`;
const key = randomBytes(32);

let server: PostgresServer;
let stack: Stack | undefined;
let redis: Redis;

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function targetUrl(password: string): string {
  return `postgresql://backup_agent:${encodeURIComponent(password)}@127.0.0.1:${server.port}/shop`;
}

beforeAll(async () => {
  server = await PostgresServer.start();
  // scram-sha-256 for every TCP login but the harness's own superuser. The file belongs to the
  // server's user when the tests run as root: rewritten in place, it keeps its owner.
  const hba = path.join(server.dir, 'data', 'pg_hba.conf');
  const original = await fs.readFile(hba, 'utf8');
  await fs.writeFile(
    hba,
    `host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n${original}`,
  );
  await sql(server.url('postgres'), 'SELECT pg_reload_conf()');
  await sql(
    server.url('postgres'),
    // CREATEDB: the restore level of verification restores into a scratch database it creates.
    `SET password_encryption = 'scram-sha-256'; CREATE ROLE backup_agent LOGIN CREATEDB PASSWORD '${rightPassword}'`,
  );
  await sql(server.url('postgres'), 'CREATE DATABASE shop OWNER backup_agent');
  await sql(
    targetUrl(rightPassword),
    `CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 300000) g`,
  );
  // The server now checks passwords: the wrong one is refused.
  await expect(sql(targetUrl(wrongPassword), 'SELECT 1')).rejects.toThrow(/password authentication failed/);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.cleanup();
  await server?.destroy();
});

/** Every command line on the machine, sampled until `stop` resolves. */
function sampleProcessArguments(stop: Promise<unknown>): Promise<{ lines: Set<string>; samples: number }> {
  const lines = new Set<string>();
  let samples = 0;
  let done = false;
  void stop.finally(() => {
    done = true;
  });
  return (async () => {
    while (!done) {
      const { stdout } = await run('ps', ['-eo', 'args=']);
      for (const line of stdout.split('\n')) if (line.trim()) lines.add(line);
      samples++;
    }
    return { lines, samples };
  })();
}

/** Every value of every key under the prefix, whatever its type. */
async function redisDump(prefix: string): Promise<{ keys: number; text: string }> {
  const keys = await redis.keys(`${prefix}:*`);
  const parts: string[] = [];
  for (const k of keys) {
    const type = await redis.type(k);
    let value: unknown;
    if (type === 'hash') value = await redis.hgetall(k);
    else if (type === 'list') value = await redis.lrange(k, 0, -1);
    else if (type === 'zset') value = await redis.zrange(k, 0, -1, 'WITHSCORES');
    else if (type === 'set') value = await redis.smembers(k);
    else if (type === 'string') value = await redis.get(k);
    else if (type === 'stream') value = await redis.xrange(k, '-', '+');
    parts.push(`${k} ${type} ${JSON.stringify(value)}`);
  }
  return { keys: keys.length, text: parts.join('\n') };
}

async function filesUnder(dir: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    found[path.relative(dir, file)] = await fs.readFile(file, 'latin1');
  }
  return found;
}

const secrets: Record<string, string> = {
  'right password': rightPassword,
  'right password, URL-encoded': encodeURIComponent(rightPassword),
  'wrong password': wrongPassword,
  'wrong password, URL-encoded': encodeURIComponent(wrongPassword),
  'key, hex': key.toString('hex'),
  'key, HEX': key.toString('hex').toUpperCase(),
  'key, base64': key.toString('base64'),
  'key, base64 unpadded': key.toString('base64').replace(/=+$/, ''),
  'key, base64url': key.toString('base64url'),
};

function leaks(where: string, text: string): string[] {
  return Object.entries(secrets)
    .filter(([, secret]) => text.includes(secret))
    .map(([name]) => `${name} in ${where}`);
}

async function dumpAndWatch(
  worker: WorkerProcess,
  jobId: string,
  waitForChain: boolean,
): Promise<{ state: string; code: string | undefined; ps: { lines: Set<string>; samples: number } }> {
  const queue = stack!.queue;
  let finish!: () => void;
  const stop = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const sampling = sampleProcessArguments(stop);
  const job = await enqueueDump(queue, { target: 'shop' }, { jobId });
  const done = await stack!.settle(job.id!, 60_000);
  if (waitForChain) {
    const backupId = done.returnvalue.backupId as string;
    expect(await stack!.finished(`verify-${backupId}-restore`)).toBe('completed');
    expect(await stack!.finished(`prune-after-${backupId}`)).toBe('completed');
  }
  finish();
  const ps = await sampling;
  expect(worker.child.exitCode).toBeNull();
  return { state: await queue.getJobState(job.id!), code: failureCode(done), ps };
}

it('no password or key material in logs (debug), run logs, errors, Redis, manifests or process arguments, on a failed and a successful run', async () => {
  stack = await createStack({
    DATABASE_URL: targetUrl(wrongPassword),
    BACKUP_TARGET_NAME: 'shop',
    BACKUP_ATTEMPTS: '2',
    // The strongest level: it also connects with the password to create and fill a scratch database.
    BACKUP_VERIFY: 'restore',
  });
  redis = new Redis(stack.config.redis.url);
  const keyFile = path.join(stack.dir, 'backup.key');
  await fs.writeFile(keyFile, `${key.toString('hex')}\n`, { mode: 0o600 });

  // A failed run: the wrong password.
  const failing = await stack.spawn({}, { logLevel: 'debug' });
  const failed = await dumpAndWatch(failing, 'wrong-password', false);
  expect(failed.state).toBe('failed');
  expect(failed.code).toBe('PG_AUTH_FAILED');
  await failing.kill('SIGTERM');

  // A successful run: the right password, encryption on.
  const working = await stack.spawn(
    { DATABASE_URL: targetUrl(rightPassword), BACKUP_ENCRYPTION_KEY_FILE: keyFile },
    { logLevel: 'debug' },
  );
  const succeeded = await dumpAndWatch(working, 'right-password', true);
  expect(succeeded.state).toBe('completed');
  // The sampling saw pg_dump run: the argument lists below include its own.
  expect(
    [...succeeded.ps.lines].some((line) => /\bpg_dump\b/.test(line) && line.includes('--snapshot')),
  ).toBe(true);
  await working.kill('SIGTERM');
  await waitFor('the workers to stop', async () => working.child.exitCode !== null, 30_000);

  const failedJob = await stack.queue.getJob('wrong-password');
  const sources: Record<string, string> = {
    'worker output (failed run, debug)': failing.output(),
    'worker output (successful run, debug)': working.output(),
    'failed job reason and stack trace': `${failedJob?.failedReason}\n${JSON.stringify(failedJob?.stacktrace)}`,
    'process arguments (failed run)': [...failed.ps.lines].join('\n'),
    'process arguments (successful run)': [...succeeded.ps.lines].join('\n'),
  };
  const stored = await redisDump(stack.config.redis.prefix);
  sources[`Redis (${stored.keys} keys under the prefix)`] = stored.text;
  for (const [file, text] of Object.entries(await filesUnder(stack.config.logDir)))
    sources[`run log ${file}`] = text;
  for (const [file, text] of Object.entries(await filesUnder(stack.config.backupDir))) {
    if (file.endsWith('.manifest.json')) sources[`manifest ${file}`] = text;
  }
  // The search itself works: a planted copy is found.
  expect(leaks('a planted copy', `x${rightPassword}x`)).toEqual(['right password in a planted copy']);
  const found = Object.entries(sources).flatMap(([where, text]) => leaks(where, text));
  expect(found).toEqual([]);
  // The sources are not empty: each held what it should.
  expect(sources['worker output (successful run, debug)']).toMatch(
    /"level":20.*restored and compared row counts/,
  );
  expect(sources['worker output (failed run, debug)']).toMatch(/PG_AUTH_FAILED/);
  expect(Object.keys(sources).filter((s) => s.startsWith('manifest'))).toHaveLength(1);
  expect(failedJob?.failedReason).toMatch(/password authentication failed/);

  recordResults('secrets', {
    secretsSearched: Object.keys(secrets),
    sources: Object.fromEntries(Object.entries(sources).map(([where, text]) => [where, text.length])),
    psSamples: { failed: failed.ps.samples, succeeded: succeeded.ps.samples },
    failedRunCode: failed.code,
    leaks: found,
  });
}, 180_000);
