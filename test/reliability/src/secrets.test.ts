import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnCli } from '@pgbackup/backupctl/testing';
import { enqueueDump } from '@pgbackup/queue';
import { PostgresServer, runSql, waitFor } from '@pgbackup/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPrng, seedFromEnv } from './support/prng.js';
import { recordResults } from './support/results.js';
import { createStack, failureCode, type Stack } from './support/stack.js';
import { spawnWorkerProcess, type WorkerProcess } from './support/worker-process.js';

const run = promisify(execFile);

// Distinctive, with characters a URL must percent-encode, so an encoded copy would be found too.
const rightPassword = `Pw-${randomBytes(6).toString('hex')}!#Zq`;
const wrongPassword = `Wrong-${randomBytes(6).toString('hex')}!#Xy`;
const key = randomBytes(32);

/**
 * A password with every character that breaks a URL (/ ? # @ : %), a space and unicode, in a
 * seeded random order with random ordinary characters: as typed into DATABASE_URL it parses the
 * wrong way; percent-encoded it is valid. RELIABILITY_SEED replays one.
 */
const prng = createPrng(seedFromEnv());
function hardPasswordOf(): string {
  const ordinary = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.~';
  const chars = [...'/?#@:% ', 'é', '密'];
  for (let i = prng.int(4, 10); i > 0; i--) chars.push(ordinary[prng.int(0, ordinary.length - 1)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = prng.int(0, i);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  // A port-like start, as in issue 12's `app:2024/Secret@db`: typed unencoded, the URL parses
  // with the host `hard_agent`, the port and the rest as path, query or fragment. Never a space
  // first or last: some reader would trim it.
  return `${prng.int(1024, 65535)}/Hq${chars.join('')}Zk`;
}
const hardPassword = hardPasswordOf();
/** Long enough (6+) not to be found by chance; else the whole password stands in. */
function tailAfterDelimiter(password: string): string {
  const tail = password.slice(password.search(/[/?#]/) + 1);
  return tail.length >= 6 ? tail : password;
}

let server: PostgresServer;
let stack: Stack | undefined;
let hardStack: Stack | undefined;
let redis: Redis;

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
  await runSql(server.url('postgres'), 'SELECT pg_reload_conf()');
  await runSql(
    server.url('postgres'),
    // CREATEDB: the restore level of verification restores into a scratch database it creates.
    `SET password_encryption = 'scram-sha-256'; CREATE ROLE backup_agent LOGIN CREATEDB PASSWORD '${rightPassword}'`,
  );
  await runSql(server.url('postgres'), 'CREATE DATABASE shop OWNER backup_agent');
  await runSql(
    targetUrl(rightPassword),
    `CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 300000) g`,
  );
  // The server now checks passwords: the wrong one is refused.
  await expect(runSql(targetUrl(wrongPassword), 'SELECT 1')).rejects.toThrow(
    /password authentication failed/,
  );
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.cleanup();
  await hardStack?.cleanup();
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
async function redisDump(prefix: string, client = redis): Promise<{ keys: number; text: string }> {
  const redis = client;
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
  'hard password': hardPassword,
  'hard password, URL-encoded': encodeURIComponent(hardPassword),
  'hard password, WHATWG-encoded': new URL(`x://u:${encodeURIComponent(hardPassword)}@h`).password,
  // The part a URL parser would take for a port, path or query when the password is not encoded.
  'hard password, after its first / ? or #': tailAfterDelimiter(hardPassword),
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

it('a password with / ? # @ : %, a space and unicode never shows in backupctl status, backups or dump --wait, nor in the worker, Redis, run logs or manifests, URL valid or not', async () => {
  // No quote in the alphabet, so the literal needs no escaping.
  await runSql(
    server.url('postgres'),
    `SET password_encryption = 'scram-sha-256'; CREATE ROLE hard_agent LOGIN PASSWORD '${hardPassword}'`,
  );
  await runSql(server.url('postgres'), 'CREATE DATABASE vault OWNER hard_agent');
  const at = `127.0.0.1:${server.port}/vault`;
  const encoded = `postgresql://hard_agent:${encodeURIComponent(hardPassword)}@${at}`;
  const raw = `postgresql://hard_agent:${hardPassword}@${at}`;
  await runSql(
    encoded,
    'CREATE TABLE notes AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 5000) g',
  );

  hardStack = await createStack({ DATABASE_URL: encoded, BACKUP_TARGET_NAME: 'vault' });
  const client = new Redis(hardStack.config.redis.url);
  const worker = await hardStack.spawn({}, { logLevel: 'debug' });
  const sources: Record<string, string> = {};
  const cli = async (label: string, extra: Record<string, string>, args: string[]) => {
    const result = await spawnCli({ ...hardStack!.env, ...extra }, args, 90_000).done;
    sources[`backupctl ${label}`] = `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
    return result;
  };

  // The URL percent-encoded: valid, and the role logs in with it.
  const dumped = await cli('dump --wait --json (valid URL)', {}, [
    'dump',
    '--target',
    'vault',
    '--wait',
    '--json',
  ]);
  expect(dumped.code, dumped.stderr).toBe(0);
  expect(JSON.parse(dumped.stdout).results[0].backupId).toMatch(/-vault-/);
  for (const args of [
    ['dump', '--target', 'vault', '--wait'],
    ['status'],
    ['status', '--json'],
    ['backups'],
    ['backups', '--json'],
  ]) {
    const result = await cli(`${args.join(' ')} (valid URL)`, {}, args);
    expect(result.code, result.stderr).toBe(0);
  }
  expect(sources['backupctl backups (valid URL)']).toMatch(/vault/);

  // As typed: DATABASE_URL, a BACKUP_CONFIG target url, REDIS_URL. A configuration error each.
  const file = path.join(hardStack.dir, 'targets.json');
  await fs.writeFile(file, JSON.stringify({ targets: [{ name: 'vault', url: raw }] }));
  const redisAt = new URL(hardStack.config.redis.url).host;
  const invalid: Array<[string, Record<string, string>]> = [
    ['DATABASE_URL as typed', { DATABASE_URL: raw }],
    ['BACKUP_CONFIG url as typed', { DATABASE_URL: '', BACKUP_TARGET_NAME: '', BACKUP_CONFIG: file }],
    ['REDIS_URL as typed', { REDIS_URL: `redis://:${hardPassword}@${redisAt}` }],
    ['REDIS_URL with a user, as typed', { REDIS_URL: `redis://default:${hardPassword}@${redisAt}` }],
  ];
  for (const [label, extra] of invalid) {
    for (const args of [
      ['status'],
      ['status', '--json'],
      ['backups'],
      ['dump', '--target', 'vault', '--wait'],
    ]) {
      const result = await cli(`${args.join(' ')} (${label})`, extra, args);
      expect(result.code, `${label}: ${result.stderr}`).toBe(2);
      expect(result.stdout + result.stderr).toContain('CONFIG_INVALID');
    }
  }

  // The worker refuses the same values at start (exit 2), quoting none of them.
  for (const [label, extra] of invalid) {
    const refused = spawnWorkerProcess({ ...hardStack.env, ...extra }, { logLevel: 'debug' });
    await refused.exited;
    expect(refused.child.exitCode, refused.output()).toBe(2);
    sources[`worker start (${label})`] = refused.output();
  }

  await worker.kill('SIGTERM');
  sources['worker output (debug)'] = worker.output();
  const stored = await redisDump(hardStack.config.redis.prefix, client);
  client.disconnect();
  sources[`Redis (${stored.keys} keys under the prefix)`] = stored.text;
  for (const [name, text] of Object.entries(await filesUnder(hardStack.config.logDir)))
    sources[`run log ${name}`] = text;
  for (const [name, text] of Object.entries(await filesUnder(hardStack.config.backupDir))) {
    if (name.endsWith('.manifest.json')) sources[`manifest ${name}`] = text;
  }
  expect(Object.keys(sources).filter((s) => s.startsWith('manifest')).length).toBeGreaterThanOrEqual(2);
  expect(leaks('a planted copy', `x${hardPassword}x`)).toContain('hard password in a planted copy');
  const found = Object.entries(sources).flatMap(([where, text]) => leaks(where, text));
  expect(found).toEqual([]);

  recordResults('secrets-hard-password', {
    seed: prng.seed,
    passwordCharacters: [...hardPassword].length,
    sources: Object.fromEntries(Object.entries(sources).map(([where, text]) => [where, text.length])),
    leaks: found,
  });
}, 240_000);
