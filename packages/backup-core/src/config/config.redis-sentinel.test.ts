import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { backupErrorOf, configWorkspace } from '../test-support/config-workspace.js';

const secret = 'St9-distinctive-SENTINEL-secret-7731';
const workspace = configWorkspace('redis-sentinel', { DATABASE_URL: 'postgresql://u@h/app' });
const load = workspace.load;
beforeAll(async () => {
  await writeFile(path.join(workspace.dir, 'sentinel_password'), `${secret}\n`);
  await writeFile(
    path.join(workspace.dir, 'config.yaml'),
    'redisSentinels: [s1:26379, "[::1]:26380"]\nredisSentinelName: backups\nredisSentinelTls: true\n',
  );
});

const sentinels = { REDIS_SENTINELS: 's1:26379, s2:26379,10.0.0.3:26379', REDIS_SENTINEL_NAME: 'mymaster' };
const failure = (env: Record<string, string>) => backupErrorOf(() => load(env), 'CONFIG_INVALID');

describe('REDIS_SENTINELS and REDIS_SENTINEL_NAME', () => {
  it('reads the sentinels, the group, both passwords; the URL only names the group, without a password', () => {
    const config = load({
      ...sentinels,
      REDIS_PASSWORD: 'data-node-password',
      REDIS_SENTINEL_PASSWORD_FILE: 'sentinel_password',
    });
    expect(config.redis).toEqual({
      url: 'sentinel://s1:26379,s2:26379,10.0.0.3:26379/mymaster',
      prefix: 'pgbackup',
      password: 'data-node-password',
      sentinel: {
        nodes: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
          { host: '10.0.0.3', port: 26379 },
        ],
        name: 'mymaster',
        password: secret,
        tls: false,
      },
    });
  });

  it('reads them from the config file too, as a list, with IPv6 in brackets and TLS on', () => {
    const config = load({ BACKUP_CONFIG: 'config.yaml' });
    expect(config.redis.url).toBe('sentinel://s1:26379,[::1]:26380/backups');
    expect(config.redis.sentinel).toEqual({
      nodes: [
        { host: 's1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'backups',
      tls: true,
    });
  });

  it('leaves Sentinel off by default', () => {
    expect(load({}).redis.sentinel).toBeUndefined();
  });

  it('refuses a sentinel list without a group name', () => {
    expect(failure({ REDIS_SENTINELS: 's1:26379' }).message).toBe(
      'REDIS_SENTINELS: is set without REDIS_SENTINEL_NAME; expected the master group name as well (the <name> of `sentinel monitor <name> <host> <port> <quorum>`)',
    );
  });

  it.each([
    ['REDIS_SENTINEL_NAME', { REDIS_SENTINEL_NAME: 'mymaster' }],
    ['REDIS_SENTINEL_PASSWORD', { REDIS_SENTINEL_PASSWORD: secret }],
    ['REDIS_SENTINEL_PASSWORD_FILE', { REDIS_SENTINEL_PASSWORD_FILE: 'sentinel_password' }],
    ['REDIS_SENTINEL_TLS', { REDIS_SENTINEL_TLS: 'yes' }],
  ])('refuses %s without REDIS_SENTINELS', (name, env) => {
    const error = failure(env);
    expect(error.message).toMatch(new RegExp(`^${name}: is set without REDIS_SENTINELS; expected`));
    expect(error.message).not.toContain(secret);
  });

  it.each([
    ['s1', '"s1", which is not host:port'],
    ['s1:26379,,s2:26379', 'has an empty item'],
    ['s1:0', '"s1:0", whose port is not 1 to 65535'],
    ['s1:70000', '"s1:70000", whose port is not 1 to 65535'],
    ['redis://s1:26379', '"redis://s1:26379", which is not host:port'],
    ['::1:26379', '"::1:26379", which is not host:port'],
    ['[s1]:26379', '"[s1]:26379", which is not host:port'],
  ])('refuses REDIS_SENTINELS=%s with CONFIG_INVALID', (value, problem) => {
    const error = failure({ ...sentinels, REDIS_SENTINELS: value });
    expect(error.message).toContain(`REDIS_SENTINELS="${value}": `);
    expect(error.message).toContain(problem);
    expect(error.message).toContain('expected comma-separated host:port pairs');
  });

  it('refuses a sentinel listed twice', () => {
    expect(failure({ ...sentinels, REDIS_SENTINELS: 's1:26379,s1:26379' }).message).toContain(
      'lists s1:26379 twice',
    );
  });

  it('refuses a group name with spaces', () => {
    expect(failure({ ...sentinels, REDIS_SENTINEL_NAME: 'my master' }).message).toContain(
      'REDIS_SENTINEL_NAME="my master": has characters other than',
    );
  });

  it('refuses REDIS_URL together with REDIS_SENTINELS, and shows no password', () => {
    const error = failure({ ...sentinels, REDIS_URL: `redis://:${secret}@redis:6379` });
    expect(error.message).toBe(
      'REDIS_URL: is set together with REDIS_SENTINELS; expected only one of them (with Sentinel, the sentinels name the primary: remove REDIS_URL)',
    );
  });

  it('refuses REDIS_SENTINEL_PASSWORD together with its file form', () => {
    expect(
      failure({
        ...sentinels,
        REDIS_SENTINEL_PASSWORD: secret,
        REDIS_SENTINEL_PASSWORD_FILE: 'sentinel_password',
      }).message,
    ).toBe(
      'REDIS_SENTINEL_PASSWORD_FILE: is set together with REDIS_SENTINEL_PASSWORD; expected only one of them',
    );
  });

  it('refuses a REDIS_SENTINEL_TLS that is not yes or no', () => {
    expect(failure({ ...sentinels, REDIS_SENTINEL_TLS: 'maybe' }).message).toContain(
      'REDIS_SENTINEL_TLS="maybe": is not yes or no; expected yes or no',
    );
  });
});
