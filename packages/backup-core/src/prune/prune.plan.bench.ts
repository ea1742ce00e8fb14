// Run: cd packages/backup-core && ../../node_modules/.bin/vitest bench --run src/prune
// Not a test: timings depend on the machine, so nothing here asserts a duration.
import { bench, describe } from 'vitest';
import type { Manifest } from '../manifest.js';
import { planPrune } from './plan.js';
import { defaultRetentionPolicy } from './policy.js';
import { makeManifest } from './test-manifests.js';

const HOUR = 3_600_000;

/**
 * `count` hourly backups ending 2026-11-24, one in ten failed: newest first as `listBackups`
 * returns them, or in a fixed pseudo-random order, the sort's worst case.
 */
function hourlyBackups(count: number, shuffled: boolean): Manifest[] {
  const verified = makeManifest({}, 'verified');
  const failed = makeManifest({}, 'failed');
  const end = Date.parse('2026-11-24T23:00:00Z');
  const manifests = Array.from({ length: count }, (_, index) => ({
    ...(index % 10 === 3 ? failed : verified),
    id: `bk-${String(index).padStart(7, '0')}`,
    createdAt: new Date(end - index * HOUR).toISOString(),
  }));
  if (!shuffled) return manifests;
  let seed = 42; // an LCG, so every run plans the same input
  for (let index = manifests.length - 1; index > 0; index--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const other = seed % (index + 1);
    [manifests[index], manifests[other]] = [manifests[other] as Manifest, manifests[index] as Manifest];
  }
  return manifests;
}

const policy = { ...defaultRetentionPolicy, yearly: 10 };

for (const count of [10_000, 100_000]) {
  describe(`planPrune over ${count} manifests`, () => {
    for (const shuffled of [false, true]) {
      const manifests = hourlyBackups(count, shuffled);
      for (const timeZone of ['UTC', 'Europe/Paris']) {
        bench(`${shuffled ? 'shuffled' : 'newest first'}, ${timeZone}`, () => {
          planPrune({ target: 'main', manifests, policy, now: new Date('2026-11-25T00:00:00Z'), timeZone });
        });
      }
    }
  });
}
