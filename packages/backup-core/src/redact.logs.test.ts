import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BackupError } from './errors.js';
import { createLogger } from './logger.js';
import { RunLog } from './run-log.js';

// The characters that make a URL unparsable, a space and unicode: a password a URL parser
// would split into host, port and path.
const password = '20 24/Se?c#r:e%t@ü密';
const urls = [
  `postgresql://app:${password}@db.internal:5432/app`,
  `redis://:${password}@redis.internal:6379`,
  `postgresql://app:${encodeURIComponent(password)}@db.internal/app`,
];
const forms = [password, encodeURIComponent(password), 'Se?c#r', 'e%t@ü'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'redact-logs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('the logger hides URL passwords in messages, fields, nested fields and errors', () => {
  let output = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      output += chunk;
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  for (const url of urls) {
    logger.warn(`cannot reach Redis at ${url} (ECONNREFUSED)`);
    logger.info({ redis: url, nested: { target: { dsn: url } }, list: [url] }, 'connecting');
    logger.error({ err: new Error(`connect failed for ${url}`) }, 'failed');
    logger.debug({ reason: `pg said: ${url}` }, 'with %s', url);
  }
  expect(output.split('\n').filter(Boolean)).toHaveLength(4 * urls.length);
  for (const form of forms) expect(output).not.toContain(form);
  expect(output).toContain('postgresql://app:***@db.internal:5432/app');
  expect(output).toContain('redis://:***@redis.internal:6379');
});

it('run logs hide URL passwords in their lines and their STATUS line', async () => {
  const log = await RunLog.open(dir, 'app', 'dump');
  await log.line(`connecting to ${urls[0]}`);
  await log.fail(new BackupError('PG_UNREACHABLE', `cannot connect to ${urls[1]}`));
  const text = await readFile(log.path, 'utf8');
  for (const form of forms) expect(text).not.toContain(form);
  expect(text).toMatch(
    /STATUS: ERROR PG_UNREACHABLE: cannot connect to redis:\/\/:\*\*\*@redis.internal:6379\n$/,
  );
});
