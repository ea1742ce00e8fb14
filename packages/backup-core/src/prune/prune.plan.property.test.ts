import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isVerified, type Manifest } from '../manifest.js';
import { naiveLocalDate } from '../test-support/naive-calendar.js';
import { type PrunePlan, type PruneReason, planPrune } from './plan.js';
import type { RetentionPolicy } from './policy.js';
import { makeManifest, testStates } from './test-manifests.js';

// Zones with DST on both hemispheres, half- and quarter-hour offsets, a 30-minute DST (Lord
// Howe), a skipped day (Apia, 2011-12-30) and date-line zones.
const zones = [
  'UTC',
  'Europe/Paris',
  'America/New_York',
  'Asia/Tokyo',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'America/Santiago',
  'America/St_Johns',
  'Asia/Tehran',
  'Pacific/Apia',
  'Pacific/Kiritimati',
  'America/Sao_Paulo',
] as const;

const HOUR = 3_600_000;
const from = Date.UTC(2010, 0, 1);
const to = Date.UTC(2030, 0, 1);

// Mostly clustered instants, so that days, weeks and months hold several backups and ties
// happen; some spread over twenty years, around Apia's skipped day and a Paris DST night.
const instantArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.integer({ min: 0, max: 24 * 400 }).map((hours) => Date.UTC(2026, 0, 1) + hours * HOUR),
  },
  { weight: 1, arbitrary: fc.integer({ min: from, max: to }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: -48, max: 48 }).map((hours) => Date.UTC(2011, 11, 30) + hours * HOUR),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: -6 * 60, max: 30 * 60 })
      .map((minutes) => Date.UTC(2026, 2, 28, 22) + minutes * 60_000),
  },
);

interface Spec {
  createdMs: number;
  state: (typeof testStates)[number];
  target: 'main' | 'other';
  /** '...:00Z' rather than '...:00.000Z': manifests written by other tools. */
  shortForm: boolean;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  createdMs: instantArb,
  state: fc.constantFrom(...testStates),
  target: fc.constantFrom('main', 'main', 'main', 'other'),
  shortForm: fc.boolean(),
});

function toManifests(specs: readonly Spec[], prefix = 'b'): Manifest[] {
  return specs.map((spec, index) => {
    const iso = new Date(spec.createdMs).toISOString();
    const createdAt = spec.shortForm && iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
    return makeManifest({ id: `${prefix}${index}`, target: spec.target, createdAt }, spec.state);
  });
}

const manifestsArb = fc.array(specArb, { maxLength: 40 }).map((specs) => toManifests(specs));

// Zero often, alone and together: a policy of all zeros is where only the floors keep anything.
const countArb = (max: number) => fc.oneof(fc.constant(0), fc.nat(max));
const policyArb: fc.Arbitrary<RetentionPolicy> = fc.record({
  daily: countArb(10),
  weekly: countArb(6),
  monthly: countArb(6),
  yearly: countArb(3),
  minVerified: countArb(6),
});

const zoneArb = fc.constantFrom(...zones);
const now = new Date('2030-01-01T00:00:00.000Z');

function run(manifests: readonly Manifest[], policy: RetentionPolicy, timeZone: string, dumpRunning = false) {
  return planPrune({ target: 'main', manifests, policy, now, timeZone, dumpRunning });
}

/** Target manifests, newest first, the way the rules define "newest". */
function newestFirst(manifests: readonly Manifest[]): Manifest[] {
  return manifests
    .filter((manifest) => manifest.target === 'main')
    .sort(
      (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    );
}

function deletedIds(plan: PrunePlan): Set<string> {
  return new Set(
    plan.decisions.filter((decision) => decision.action === 'delete').map((decision) => decision.id),
  );
}

/**
 * An independent statement of the rules: one Intl call per backup (no offset cache), ISO weeks
 * from Date arithmetic, periods grouped by label. The plan must match it exactly.
 */
function referencePlan(manifests: readonly Manifest[], policy: RetentionPolicy, timeZone: string) {
  const sorted = newestFirst(manifests);
  const verified = sorted.filter(isVerified);
  const reasons = new Map<string, PruneReason[]>(sorted.map((manifest) => [manifest.id, []]));
  const add = (id: string, reason: PruneReason) => reasons.get(id)?.push(reason);
  const newest = verified[0];
  if (!newest) {
    for (const manifest of sorted) add(manifest.id, { kind: 'no-verified-backup' });
  } else {
    add(newest.id, { kind: 'newest-verified' });
    verified.slice(0, policy.minVerified).forEach((manifest, index) => {
      add(manifest.id, { kind: 'min-verified', rank: index + 1 });
    });
    for (const kind of ['daily', 'weekly', 'monthly', 'yearly'] as const) {
      const seen = new Set<string>();
      for (const manifest of verified) {
        const label = naiveLabel(kind, Date.parse(manifest.createdAt), timeZone);
        if (seen.has(label) || seen.size >= policy[kind]) continue;
        seen.add(label);
        add(manifest.id, { kind, period: label });
      }
    }
    for (const manifest of sorted) {
      if (!isVerified(manifest) && Date.parse(manifest.createdAt) >= Date.parse(newest.createdAt)) {
        add(manifest.id, { kind: 'pending' });
      }
    }
  }
  return sorted.map((manifest) => {
    const kept = reasons.get(manifest.id) ?? [];
    if (kept.length > 0) return { id: manifest.id, action: 'keep', reasons: kept };
    const reason = isVerified(manifest) ? 'outside-policy' : 'not-verified-superseded';
    return { id: manifest.id, action: 'delete', reasons: [{ kind: reason }] };
  });
}

function naiveLabel(
  kind: 'daily' | 'weekly' | 'monthly' | 'yearly',
  epochMs: number,
  timeZone: string,
): string {
  const { year, month, day } = naiveLocalDate(epochMs, timeZone);
  if (kind === 'daily') return `${year}-${month}-${day}`;
  if (kind === 'monthly') return `${year}-${month}`;
  if (kind === 'yearly') return year;
  // The usual recipe: move to the Thursday of the week, whose year is the week-year.
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  date.setUTCDate(date.getUTCDate() + 4 - (date.getUTCDay() || 7));
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

describe('planPrune properties', () => {
  it('never leaves fewer than min(k, max(1, minVerified)) verified backups, the newest among them, and never deletes anything newer', () => {
    fc.assert(
      fc.property(
        manifestsArb,
        policyArb,
        zoneArb,
        fc.constantFrom(false, false, false, true),
        (manifests, policy, timeZone, dumpRunning) => {
          const plan = run(manifests, policy, timeZone, dumpRunning);
          const deleted = deletedIds(plan);
          const verified = newestFirst(manifests).filter(isVerified);
          const remaining = verified.filter((manifest) => !deleted.has(manifest.id));

          const newest = verified[0];
          if (newest) {
            expect(remaining.length).toBeGreaterThanOrEqual(
              Math.min(verified.length, Math.max(1, policy.minVerified)),
            );
            expect(remaining[0]).toBe(newest);
            const newestMs = Date.parse(newest.createdAt);
            for (const manifest of manifests) {
              if (manifest.target === 'main' && Date.parse(manifest.createdAt) > newestMs) {
                expect(deleted.has(manifest.id)).toBe(false);
              }
            }
          } else {
            expect(deleted.size).toBe(0);
          }
          if (dumpRunning) expect(deleted.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decides once for every backup of the target, newest first, with consistent reasons and counts', () => {
    fc.assert(
      fc.property(manifestsArb, policyArb, zoneArb, (manifests, policy, timeZone) => {
        const plan = run(manifests, policy, timeZone);
        expect(plan.decisions.map((decision) => decision.id)).toEqual(
          newestFirst(manifests).map((m) => m.id),
        );
        expect(plan.keep + plan.delete).toBe(plan.decisions.length);
        expect(plan.delete).toBe(deletedIds(plan).size);
        const byId = new Map(manifests.map((manifest) => [manifest.id, manifest]));
        for (const decision of plan.decisions) {
          expect(decision.reasons.length).toBeGreaterThan(0);
          const verified = isVerified(byId.get(decision.id) as Manifest);
          for (const reason of decision.reasons) {
            if (
              ['daily', 'weekly', 'monthly', 'yearly', 'newest-verified', 'min-verified'].includes(
                reason.kind,
              )
            ) {
              expect(verified).toBe(true);
            }
          }
          if (decision.action === 'delete') {
            expect(decision.reasons).toEqual([
              { kind: verified ? 'outside-policy' : 'not-verified-superseded' },
            ]);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('matches a naive statement of the rules that calls Intl once per backup', () => {
    fc.assert(
      fc.property(manifestsArb, policyArb, zoneArb, (manifests, policy, timeZone) => {
        const plan = run(manifests, policy, timeZone);
        const actual = plan.decisions.map(({ id, action, reasons }) => ({ id, action, reasons }));
        expect(actual).toEqual(referencePlan(manifests, policy, timeZone));
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same plan for the same manifests in any order', () => {
    const arb = manifestsArb.chain((manifests) =>
      fc.tuple(
        fc.constant(manifests),
        fc.shuffledSubarray(manifests, { minLength: manifests.length, maxLength: manifests.length }),
      ),
    );
    fc.assert(
      fc.property(arb, policyArb, zoneArb, ([manifests, shuffled], policy, timeZone) => {
        const first = run(manifests, policy, timeZone);
        expect(run(manifests, policy, timeZone)).toEqual(first);
        expect(run(shuffled, policy, timeZone)).toEqual(first);
      }),
      { numRuns: 200 },
    );
  });

  it('over a superset, never deletes the newest verified backup, and added unverified backups change no verified decision', () => {
    const extraArb = fc.array(specArb, { maxLength: 20 });
    fc.assert(
      fc.property(manifestsArb, extraArb, policyArb, zoneArb, (manifests, extraSpecs, policy, timeZone) => {
        const extra = toManifests(extraSpecs, 'x');
        const superset = run([...manifests, ...extra], policy, timeZone);
        const newest = newestFirst([...manifests, ...extra]).find(isVerified);
        if (newest) expect(deletedIds(superset).has(newest.id)).toBe(false);

        const notVerified = extra.filter((manifest) => manifest.target !== 'main' || !isVerified(manifest));
        const base = run(manifests, policy, timeZone);
        const widened = run([...manifests, ...notVerified], policy, timeZone);
        const verifiedIds = new Set(
          manifests.filter((m) => m.target === 'main' && isVerified(m)).map((m) => m.id),
        );
        const onlyVerified = (plan: PrunePlan) =>
          plan.decisions.filter((decision) => verifiedIds.has(decision.id));
        expect(onlyVerified(widened)).toEqual(onlyVerified(base));
      }),
      { numRuns: 200 },
    );
  });

  it('is idempotent: planning again over what a plan keeps deletes nothing', () => {
    fc.assert(
      fc.property(manifestsArb, policyArb, zoneArb, (manifests, policy, timeZone) => {
        const deleted = deletedIds(run(manifests, policy, timeZone));
        const survivors = manifests.filter((manifest) => !deleted.has(manifest.id));
        expect(run(survivors, policy, timeZone).delete).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
