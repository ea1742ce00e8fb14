import { describe, expect, it } from 'vitest';
import { isBackupError } from '../errors.js';
import type { Copy, Manifest } from '../manifest.js';
import { planLocalPrune } from './local-plan.js';
import { describeReason, type PrunePlan } from './plan.js';
import type { RetentionPolicy } from './policy.js';
import { backup } from './test-manifests.js';

const now = new Date('2026-11-24T12:00:00.000Z');
const keepOne: RetentionPolicy = { daily: 1, weekly: 0, monthly: 0, yearly: 0, minVerified: 1 };
const untilCopied: RetentionPolicy = { ...keepOne, daily: 0, untilCopied: true };

function copiedTo(manifest: Manifest, ...destinations: string[]): Manifest {
  const copies: Copy[] = destinations.map((destination) => ({
    destination,
    bucket: 'b',
    key: `main/${manifest.file}`,
    sizeBytes: manifest.sizeBytes,
    sha256: manifest.sha256,
    confirmedAt: manifest.completedAt,
  }));
  return { ...manifest, copies };
}

function plan(manifests: Manifest[], policy: RetentionPolicy, destinations: string[]): PrunePlan {
  return planLocalPrune({ target: 'main', manifests, policy, destinations, now, timeZone: 'UTC' });
}

function actions(result: PrunePlan): string[] {
  return result.decisions.map((d) => `${d.id} ${d.action}: ${d.reasons.map(describeReason).join(', ')}`);
}

describe('planLocalPrune', () => {
  it('without destinations it is planPrune', () => {
    const result = plan(
      [backup('old', '2026-11-20T02:00:00.000Z'), backup('new', '2026-11-24T02:00:00.000Z')],
      keepOne,
      [],
    );
    expect(actions(result)).toEqual([
      'new keep: newest verified backup, minimum verified backups kept (rank 1), daily slot 2026-11-24',
      'old delete: verified, fills no retention slot',
    ]);
  });

  it('a verified backup the policy would delete waits for its copies; failed ones do not (they are never copied)', () => {
    const result = plan(
      [
        backup('uncopied', '2026-11-20T02:00:00.000Z'),
        copiedTo(backup('half', '2026-11-21T02:00:00.000Z'), 's3'),
        copiedTo(backup('both', '2026-11-22T02:00:00.000Z'), 's3', 'b2'),
        backup('failed', '2026-11-23T02:00:00.000Z', 'failed'),
        backup('new', '2026-11-24T02:00:00.000Z'),
      ],
      keepOne,
      ['s3', 'b2'],
    );
    expect(actions(result)).toEqual([
      'new keep: newest verified backup, minimum verified backups kept (rank 1), daily slot 2026-11-24',
      'failed delete: not verified (failed, suspicious or unchecked) and older than the newest verified backup',
      'both delete: verified, fills no retention slot',
      'half keep: no confirmed copy yet in b2, kept until there is',
      'uncopied keep: no confirmed copy yet in s3, b2, kept until there is',
    ]);
    expect([result.keep, result.delete]).toEqual([3, 2]);
  });

  it('retention 0: deleted once every destination has a confirmed copy, the newest included; the rest waits', () => {
    const result = plan(
      [
        copiedTo(backup('old', '2026-11-20T02:00:00.000Z'), 's3'),
        backup('failed', '2026-11-21T02:00:00.000Z', 'failed'),
        copiedTo(backup('copied', '2026-11-22T02:00:00.000Z'), 's3'),
        backup('waiting', '2026-11-23T02:00:00.000Z'),
        backup('unchecked', '2026-11-24T02:00:00.000Z', 'unverified'),
      ],
      untilCopied,
      ['s3'],
    );
    expect(actions(result)).toEqual([
      'unchecked keep: newer than the newest verified backup, verification may be pending',
      'waiting keep: no confirmed copy yet in s3, kept until there is',
      'copied delete: copied to s3 (retention 0: kept only until copied)',
      'failed delete: not verified (failed, suspicious or unchecked) and older than the newest verified backup',
      'old delete: copied to s3 (retention 0: kept only until copied)',
    ]);
    const newestOnly = plan([copiedTo(backup('only', '2026-11-24T02:00:00.000Z'), 's3')], untilCopied, [
      's3',
    ]);
    expect(newestOnly.decisions[0]?.action).toBe('delete');
  });

  it('retention 0 keeps everything while a dump runs, and needs a destination', () => {
    const manifests = [copiedTo(backup('a', '2026-11-24T02:00:00.000Z'), 's3')];
    const running = planLocalPrune({
      target: 'main',
      manifests,
      policy: untilCopied,
      destinations: ['s3'],
      now,
      timeZone: 'UTC',
      dumpRunning: true,
    });
    expect(running.delete).toBe(0);
    let error: unknown;
    try {
      plan(manifests, untilCopied, []);
    } catch (caught) {
      error = caught;
    }
    expect(isBackupError(error, 'CONFIG_INVALID')).toBe(true);
  });
});
