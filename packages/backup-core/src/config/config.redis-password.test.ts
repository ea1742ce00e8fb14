import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { backupErrorOf, configWorkspace } from '../test-support/config-workspace.js';

const secret = 'Rd7-distinctive-REDIS-secret-4410';
const workspace = configWorkspace('redis-password', { DATABASE_URL: 'postgresql://u@h/app' });
const load = workspace.load;
beforeAll(async () => {
  await writeFile(path.join(workspace.dir, 'redis_password'), `${secret}\n`);
  await writeFile(path.join(workspace.dir, 'empty'), '');
  await writeFile(path.join(workspace.dir, 'newline-only'), '\n');
});

const failure = (env: Record<string, string>) => backupErrorOf(() => load(env), 'CONFIG_INVALID');

describe('REDIS_PASSWORD and REDIS_PASSWORD_FILE', () => {
  it('leaves the password unset by default', () => {
    expect(load({}).redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'pgbackup' });
  });

  it('reads REDIS_PASSWORD_FILE (relative to cwd), without its trailing newline, apart from the URL', () => {
    const config = load({ REDIS_URL: 'redis://redis:6379', REDIS_PASSWORD_FILE: 'redis_password' });
    expect(config.redis).toEqual({ url: 'redis://redis:6379', prefix: 'pgbackup', password: secret });
  });

  it('takes REDIS_PASSWORD as it is (spaces may be part of a password)', () => {
    expect(load({ REDIS_PASSWORD: ` ${secret} ` }).redis.password).toBe(` ${secret} `);
  });

  it('accepts an ACL user name in the URL with the password apart', () => {
    const config = load({ REDIS_URL: 'redis://backup@redis:6379', REDIS_PASSWORD: secret });
    expect(config.redis.url).toBe('redis://backup@redis:6379');
    expect(config.redis.password).toBe(secret);
  });

  it.each([
    ['a missing file', 'no-such-file', 'cannot be read (ENOENT)'],
    ['an empty file', 'empty', 'is an empty file'],
    ['a file holding only a newline', 'newline-only', 'is an empty file'],
  ])('refuses %s with CONFIG_INVALID naming REDIS_PASSWORD_FILE', (_what, file, problem) => {
    const error = failure({ REDIS_PASSWORD_FILE: file });
    expect(error.message).toBe(
      `REDIS_PASSWORD_FILE="${file}": ${problem}; expected a readable file holding the password, for example /run/secrets/redis_password`,
    );
  });

  it('refuses REDIS_PASSWORD together with REDIS_PASSWORD_FILE', () => {
    const error = failure({ REDIS_PASSWORD: secret, REDIS_PASSWORD_FILE: 'redis_password' });
    expect(error.message).toBe(
      'REDIS_PASSWORD_FILE: is set together with REDIS_PASSWORD; expected only one of them',
    );
  });

  it.each([
    ['REDIS_PASSWORD', secret],
    ['REDIS_PASSWORD_FILE', 'redis_password'],
  ])('refuses %s together with a password in REDIS_URL, and shows neither password', (name, value) => {
    const error = failure({ REDIS_URL: `redis://:${secret}-url@redis:6379`, [name]: value });
    expect(error.message).toBe(
      `${name}: is set while REDIS_URL also holds a password; expected only one of them (remove the password from the URL)`,
    );
    expect(error.message).not.toContain(secret);
  });

  it('never shows the password of REDIS_URL in a problem about the URL', () => {
    const error = failure({ REDIS_URL: `http://:${secret}@redis:6379` });
    expect(error.message).toContain('REDIS_URL="http://:***@redis:6379": has the scheme http');
    expect(error.message).not.toContain(secret);
  });

  it('reads redisPasswordFile from the config file, relative to the file', async () => {
    await writeFile(
      path.join(workspace.dir, 'config.json'),
      JSON.stringify({ redisPasswordFile: 'redis_password' }),
    );
    expect(load({ BACKUP_CONFIG: 'config.json' }).redis.password).toBe(secret);
  });
});
