import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { onStopSignals } from './stop-signals.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('onStopSignals (worker and dashboard)', () => {
  it('stops gracefully once, ignores the same keypress twice, and stops at once on a later signal', () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T10:00:00Z') });
    const events = new EventEmitter();
    const calls: string[] = [];
    onStopSignals(
      {
        graceful: (signal) => calls.push(`graceful ${signal}`),
        immediate: (signal) => calls.push(`immediate ${signal}`),
      },
      events,
    );
    events.emit('SIGINT', 'SIGINT');
    // npm forwarding the same Ctrl-C a few milliseconds later.
    vi.setSystemTime(new Date('2026-12-02T10:00:00.200Z'));
    events.emit('SIGINT', 'SIGINT');
    expect(calls).toEqual(['graceful SIGINT']);
    vi.setSystemTime(new Date('2026-12-02T10:00:03Z'));
    events.emit('SIGTERM', 'SIGTERM');
    expect(calls).toEqual(['graceful SIGINT', 'immediate SIGTERM']);
  });
});
