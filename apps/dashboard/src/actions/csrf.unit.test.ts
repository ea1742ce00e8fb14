import { describe, expect, it } from 'vitest';
import { CsrfTokens, processSecret } from './csrf.js';

const alice = { user: 'alice', role: 'operator' } as const;

describe('form tokens', () => {
  it('match for the account they were made for, and not for another account or secret', async () => {
    const tokens = new CsrfTokens(processSecret());
    const token = await tokens.tokenFor(alice);
    expect(await tokens.matches(alice, token)).toBe(true);
    expect(await tokens.matches({ user: 'alice', role: 'viewer' }, token)).toBe(false);
    expect(await tokens.matches(alice, undefined)).toBe(false);
    expect(await new CsrfTokens(processSecret()).matches(alice, token)).toBe(false);
  });

  it('load the secret again after a failed load (Redis away) instead of remembering the failure', async () => {
    let calls = 0;
    const tokens = new CsrfTokens(async () => {
      calls++;
      if (calls === 1) throw new Error('Redis is away');
      return Buffer.alloc(32, 7);
    });
    await expect(tokens.tokenFor(alice)).rejects.toThrow('Redis is away');
    const token = await tokens.tokenFor(alice);
    expect(await tokens.matches(alice, token)).toBe(true);
    expect(calls).toBe(2);
  });
});
