import { describe, expect, it } from 'vitest';
import { type BackupError, isBackupError } from '../errors.js';
import { executePrune, type PruneStore } from './execute.js';
import { type PrunePlan, planPrune } from './plan.js';
import { backup } from './test-manifests.js';

/** Records every call; fails on the ids in `failOn`. */
class MemoryStore implements PruneStore {
  readonly calls: string[] = [];
  constructor(private readonly failOn: ReadonlySet<string> = new Set()) {}

  async deleteBackup(target: string, id: string): Promise<void> {
    this.calls.push(`${target}/${id}`);
    if (this.failOn.has(id)) throw new Error(`EACCES: permission denied, unlink '${id}.dump'`);
  }
}

// Policy of zeros: only the newest verified backup survives, the rest is deleted.
function planWithDeletions(): PrunePlan {
  return planPrune({
    target: 'main',
    manifests: [
      backup('d2', '2026-11-22T02:00:00Z'),
      backup('keep', '2026-11-24T02:00:00Z'),
      backup('d1', '2026-11-20T02:00:00Z', 'failed'),
      backup('d3', '2026-11-23T02:00:00Z'),
      backup('d0', '2026-11-19T02:00:00.000Z'),
      backup('d0b', '2026-11-19T02:00:00Z', 'suspicious'),
    ],
    policy: { daily: 0, weekly: 0, monthly: 0, yearly: 0, minVerified: 0 },
    now: new Date('2026-11-24T12:00:00Z'),
    timeZone: 'UTC',
  });
}

async function rejection(promise: Promise<unknown>): Promise<BackupError> {
  try {
    await promise;
  } catch (error) {
    if (isBackupError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('executePrune', () => {
  it('deletes the plan’s deletions one at a time, oldest first (ties by id), and keeps the rest', async () => {
    const plan = planWithDeletions();
    const store = new MemoryStore();
    const result = await executePrune(plan, store, { dryRun: false });
    expect(store.calls).toEqual(['main/d0', 'main/d0b', 'main/d1', 'main/d2', 'main/d3']);
    expect(result).toEqual({ plan, deleted: ['d0', 'd0b', 'd1', 'd2', 'd3'], dryRun: false });
  });

  it('orders by time even when handed a plan in another order', async () => {
    const plan = planWithDeletions();
    const shuffled = { ...plan, decisions: [...plan.decisions].reverse() };
    const store = new MemoryStore();
    await executePrune(shuffled, store, { dryRun: false });
    expect(store.calls).toEqual(['main/d0', 'main/d0b', 'main/d1', 'main/d2', 'main/d3']);
  });

  it('calls nothing on a dry run', async () => {
    const plan = planWithDeletions();
    const store = new MemoryStore();
    const result = await executePrune(plan, store, { dryRun: true });
    expect(store.calls).toEqual([]);
    expect(result).toEqual({ plan, deleted: [], dryRun: true });
  });

  it('stops at the first failure with PRUNE_BLOCKED naming the backup and what was deleted', async () => {
    const store = new MemoryStore(new Set(['d1']));
    const error = await rejection(executePrune(planWithDeletions(), store, { dryRun: false }));
    expect(error.code).toBe('PRUNE_BLOCKED');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('d1');
    expect(error.message).toContain('EACCES');
    expect(error.details).toEqual({ target: 'main', backupId: 'd1', deleted: ['d0', 'd0b'] });
    expect((error.cause as Error).message).toContain('EACCES');
    // Nothing after the failure was attempted.
    expect(store.calls).toEqual(['main/d0', 'main/d0b', 'main/d1']);
  });

  it('does nothing when the plan deletes nothing', async () => {
    const plan = planPrune({
      target: 'main',
      manifests: [backup('only', '2026-11-24T02:00:00Z'), backup('bad', '2026-11-23T02:00:00Z', 'failed')],
      policy: { daily: 0, weekly: 0, monthly: 0, yearly: 0, minVerified: 0 },
      now: new Date('2026-11-24T12:00:00Z'),
      timeZone: 'UTC',
      dumpRunning: true,
    });
    const store = new MemoryStore();
    expect(await executePrune(plan, store, { dryRun: false })).toEqual({ plan, deleted: [], dryRun: false });
    expect(store.calls).toEqual([]);
  });

  it('refuses a hand-made plan that would delete every backup of the target', async () => {
    const plan = planWithDeletions();
    const everything: PrunePlan = {
      ...plan,
      decisions: plan.decisions.map((decision) => ({ ...decision, action: 'delete' })),
    };
    const store = new MemoryStore();
    for (const dryRun of [false, true]) {
      const error = await rejection(executePrune(everything, store, { dryRun }));
      expect(error.code).toBe('PRUNE_BLOCKED');
    }
    expect(store.calls).toEqual([]);
  });

  it('stops between deletions when aborted, with ABORTED and what was deleted', async () => {
    const controller = new AbortController();
    const store: PruneStore = {
      async deleteBackup(_target, id) {
        if (id === 'd0b') controller.abort(new Error('SIGTERM'));
      },
    };
    const error = await rejection(
      executePrune(planWithDeletions(), store, { dryRun: false, signal: controller.signal }),
    );
    expect(error.code).toBe('ABORTED');
    expect(error.details).toEqual({ target: 'main', deleted: ['d0', 'd0b'] });
  });
});
