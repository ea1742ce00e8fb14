import { describe, expect, it } from 'vitest';
import { countsAgainstTarget, newestFailureByTarget } from './target-failures.js';

const failed = (name: string, data: Record<string, unknown>, finishedOn: number) => ({
  name,
  data,
  finishedOn,
});

describe('newestFailureByTarget', () => {
  it("keeps each target's newest failure that says something about its backups", () => {
    const byTarget = newestFailureByTarget([
      failed('dump', { target: 'app' }, 1_000),
      failed('verify', { backupId: '20261203T020000000Z-app-abc123' }, 2_000),
      // Newer, but a restore replaces another database and a drill has its own alerts.
      failed('restore', { backupId: '20261203T020000000Z-app-abc123', database: 'x' }, 3_000),
      failed('drill', { target: 'app' }, 4_000),
      failed('prune', { target: 'shop' }, 5_000),
      // Not finished (an attempt waiting to retry is not a final failure).
      failed('dump', { target: 'crm' }, 0),
    ]);
    expect(byTarget.get('app')).toEqual({ at: new Date(2_000), backupId: '20261203T020000000Z-app-abc123' });
    expect(byTarget.get('shop')).toEqual({ at: new Date(5_000) });
    expect(byTarget.has('crm')).toBe(false);
  });

  it('counts dumps, verifications, copies, prunes and discover runs against their target', () => {
    for (const name of ['dump', 'verify', 'copy', 'prune', 'discover'])
      expect(countsAgainstTarget({ name })).toBe(true);
    for (const name of ['restore', 'drill']) expect(countsAgainstTarget({ name })).toBe(false);
  });
});
