import { describe, expect, it } from 'vitest';
import type { Manifest } from '../manifest.js';
import { backup } from '../prune/test-manifests.js';
import { targetHealth } from './target-health.js';

const now = new Date('2026-11-24T12:00:00Z');
const day = 86_400_000;
const maxAgeMs = 2 * day;
const at = (iso: string) => new Date(iso);

function health(manifests: Manifest[], extra: Partial<Parameters<typeof targetHealth>[0]> = {}) {
  return targetHealth({ maxAgeMs, manifests, now, ...extra });
}

describe('targetHealth', () => {
  it('is ok with a verified backup younger than the maximum age', () => {
    const result = health([backup('a', '2026-11-24T02:00:00Z')]);
    expect(result).toMatchObject({ state: 'ok', problem: false, stale: false, failing: false });
  });

  it('is stale once the newest verified backup is older than the maximum age', () => {
    const result = health(
      [backup('old', '2026-11-21T02:00:00Z'), backup('bad', '2026-11-24T02:00:00Z', 'failed')].reverse(),
    );
    expect(result).toMatchObject({ state: 'stale', problem: true, stale: true });
    expect(result.lastVerified?.id).toBe('old');
  });

  it('ignores failed and suspicious backups when looking for the newest verified one', () => {
    const result = health([
      backup('suspicious', '2026-11-24T03:00:00Z', 'suspicious'),
      backup('failed', '2026-11-24T02:00:00Z', 'failed'),
      backup('good', '2026-11-23T02:00:00Z'),
    ]);
    expect(result.lastVerified?.id).toBe('good');
    expect(result.state).toBe('ok');
  });

  it('gives a new target its maximum age of grace, and none when nobody knows since when it is watched', () => {
    expect(health([], { watchedSince: at('2026-11-24T00:00:00Z') })).toMatchObject({
      state: 'missing',
      inGrace: true,
      problem: false,
    });
    expect(health([], { watchedSince: at('2026-11-21T00:00:00Z') })).toMatchObject({
      state: 'missing',
      inGrace: false,
      problem: true,
    });
    expect(health([])).toMatchObject({ state: 'missing', inGrace: false, stale: true, problem: true });
  });

  it('is failing after a final failure until a backup taken after it is verified', () => {
    const manifests = [backup('a', '2026-11-24T02:00:00Z')];
    const createdAt = Date.parse(manifests[0]!.createdAt);
    const verifiedAt = Date.parse(health(manifests).verifiedAt!);
    expect(verifiedAt).toBeGreaterThan(createdAt);
    // A backup taken after the failure answers it.
    expect(health(manifests, { lastFailure: { at: new Date(createdAt - 1_000) } })).toMatchObject({
      state: 'ok',
      failing: false,
    });
    // Failed after the snapshot: still failing, even though the backup was verified later (a
    // verification of an older backup re-run the morning after a failed dump answers nothing).
    expect(health(manifests, { lastFailure: { at: new Date(createdAt + 1_000) } })).toMatchObject({
      state: 'failing',
      problem: true,
    });
    expect(health(manifests, { lastFailure: { at: new Date(verifiedAt + 1_000) } })).toMatchObject({
      state: 'failing',
    });
    expect(health(manifests, { lastFailure: null })).toMatchObject({ state: 'ok', failing: null });
  });

  it('is answered by the failed backup itself once verified again after the failure', () => {
    const manifests = [backup('a', '2026-11-24T02:00:00Z')];
    const id = manifests[0]!.id;
    const verifiedAt = Date.parse(health(manifests).verifiedAt!);
    expect(
      health(manifests, { lastFailure: { at: new Date(verifiedAt - 1_000), backupId: id } }).failing,
    ).toBe(false);
    expect(
      health(manifests, { lastFailure: { at: new Date(verifiedAt + 1_000), backupId: id } }).failing,
    ).toBe(true);
    expect(
      health(manifests, { lastFailure: { at: new Date(verifiedAt - 1_000), backupId: 'another' } }).failing,
    ).toBe(true);
  });

  it('answers a failed copy only by that copy confirmed, or by its backup being gone', () => {
    const failedCopy = backup('b', '2026-11-23T02:00:00Z');
    const newer = backup('c', '2026-11-24T02:00:00Z');
    const failure = { at: new Date('2026-11-23T02:30:00Z'), backupId: failedCopy.id, copyTo: 's3' };
    // A newer backup was taken and verified since: a dump failure would be answered, not this.
    expect(health([newer, failedCopy], { lastFailure: failure }).failing).toBe(true);
    const copied = {
      ...failedCopy,
      copies: [
        {
          destination: 's3',
          bucket: 'b',
          key: `k/${failedCopy.file}`,
          sizeBytes: failedCopy.sizeBytes,
          sha256: failedCopy.sha256,
          confirmedAt: '2026-11-24T09:00:00.000Z',
        },
      ],
    };
    expect(health([newer, copied], { lastFailure: failure }).failing).toBe(false);
    // A copy to another destination answers nothing.
    expect(health([newer, copied], { lastFailure: { ...failure, copyTo: 'nas' } }).failing).toBe(true);
    // Pruned since: nothing left to copy.
    expect(health([newer], { lastFailure: failure }).failing).toBe(false);
  });
});
