import { describe, expect, it } from 'vitest';
import { resolveAccess } from './access.js';
import { Accounts } from './accounts.js';
import { parseBasicAuthorization } from './basic-auth.js';
import { FailureLimiter, loginKey } from './failure-limiter.js';

describe('FailureLimiter', () => {
  it('blocks a client after 10 failures within a minute and frees it as they age out', () => {
    let clock = 1_000_000;
    const limiter = new FailureLimiter({ now: () => clock });
    for (let i = 0; i < 9; i++) {
      limiter.recordFailure('10.0.0.1');
      clock += 1_000;
    }
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(0);
    limiter.recordFailure('10.0.0.1'); // the 10th, at +9 s
    // Blocked until the first failure (at +0 s) is a minute old.
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(51_000);
    expect(limiter.retryAfterMs('10.0.0.2')).toBe(0);
    clock += 51_000;
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(0);
  });

  it('forgets the least recently failing clients past maxClients', () => {
    const limiter = new FailureLimiter({ maxFailures: 1, maxClients: 2, now: () => 0 });
    limiter.recordFailure('a');
    limiter.recordFailure('b');
    limiter.recordFailure('c');
    expect(limiter.retryAfterMs('a')).toBe(0);
    expect(limiter.retryAfterMs('b')).toBeGreaterThan(0);
    expect(limiter.retryAfterMs('c')).toBeGreaterThan(0);
  });
});

describe('loginKey and the penalty', () => {
  it('keys failures by address and user name, without keeping the name as sent', () => {
    expect(loginKey('10.0.0.1', 'admin')).toBe(loginKey('10.0.0.1', 'admin'));
    expect(loginKey('10.0.0.1', 'admin')).not.toBe(loginKey('10.0.0.1', 'viewer'));
    expect(loginKey('10.0.0.1', 'admin')).not.toBe(loginKey('10.0.0.2', 'admin'));
    expect(loginKey('::1', 'x'.repeat(10_000)).length).toBeLessThan(40);
  });

  it('holds at most maxDelayed wrong logins at once; the others are answered at once', async () => {
    const limiter = new FailureLimiter({ penaltyDelayMs: 200, maxDelayed: 1 });
    const started = Date.now();
    const first = limiter.penalty();
    await limiter.penalty();
    expect(Date.now() - started).toBeLessThan(100);
    await first;
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});

describe('Accounts', () => {
  const accounts = new Accounts([
    { user: 'admin', password: 'pw-ä', role: 'operator' },
    { user: 'viewer', password: 'other', role: 'viewer' },
  ]);

  it('gives each account its role and nothing to a wrong pair', () => {
    expect(accounts.authenticate('admin', 'pw-ä')).toBe('operator');
    expect(accounts.authenticate('viewer', 'other')).toBe('viewer');
    expect(accounts.authenticate('admin', 'other')).toBeUndefined();
    expect(accounts.authenticate('admin', 'pw-ä ')).toBeUndefined();
    expect(accounts.authenticate('', '')).toBeUndefined();
  });
});

describe('parseBasicAuthorization', () => {
  const encode = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

  it('splits at the first colon, so passwords may hold colons', () => {
    expect(parseBasicAuthorization(encode('admin:a:b'))).toEqual({ user: 'admin', password: 'a:b' });
    expect(parseBasicAuthorization(encode('ünï:pässwörd'))).toEqual({ user: 'ünï', password: 'pässwörd' });
  });

  it('returns undefined for anything that is not Basic credentials', () => {
    expect(parseBasicAuthorization(undefined)).toBeUndefined();
    expect(parseBasicAuthorization('Bearer abc')).toBeUndefined();
    expect(parseBasicAuthorization(encode('no-colon'))).toBeUndefined();
    expect(parseBasicAuthorization('Basic !!!')).toBeUndefined();
  });
});

describe('resolveAccess', () => {
  const dashboard = { port: 3000, basePath: '/', user: 'admin' };

  it('listens where DASHBOARD_HOST says when a password is configured (default 127.0.0.1)', () => {
    expect(resolveAccess({ ...dashboard, password: 'x' }).host).toBe('127.0.0.1');
    expect(resolveAccess({ ...dashboard, password: 'x', host: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(resolveAccess({ ...dashboard, password: 'x', host: '0.0.0.0' }).warnings).toEqual([]);
  });

  it('makes up a password and stays on 127.0.0.1 when none is configured', () => {
    const access = resolveAccess({ ...dashboard, host: '0.0.0.0', viewerUser: 'v', viewerPassword: 'vp' });
    expect(access.host).toBe('127.0.0.1');
    expect(access.warnings).toHaveLength(1);
    expect(access.generated?.user).toBe('admin');
    expect(access.accounts.authenticate('admin', access.generated!.password)).toBe('operator');
    expect(access.accounts.authenticate('v', 'vp')).toBe('viewer');
    expect(resolveAccess(dashboard).generated!.password).not.toBe(access.generated!.password);
  });
});
