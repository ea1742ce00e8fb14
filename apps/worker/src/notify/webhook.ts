import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@pgbackup/backup-core';

export interface Notification {
  event:
    | 'failure'
    | 'recovery'
    | 'stale'
    | 'copy_failed'
    | 'restore_failed'
    | 'drill_failed'
    | 'drill_rto_exceeded'
    | 'drill_stale'
    | 'discovered'
    | 'vanished'
    | 'schedule_restored';
  /** The server target of a discovered or vanished event (`target` is the database's own target). */
  server?: string;
  /** The real database name of a discovered or vanished event. */
  database?: string;
  /** The destination of a copy_failed event. */
  destination?: string;
  /** The target concerned; `*` for a schedule_restored event about several (listed in `targets`). */
  target: string;
  /** Every target of a schedule_restored event. */
  targets?: string[];
  text: string;
  code?: string;
  jobId?: string;
}

export interface RetrySchedule {
  /** The waits before each retry; their count is the number of retries. */
  delaysMs: readonly number[];
  /** Each wait is stretched or shrunk by up to this fraction, so workers do not retry in step. */
  jitter: number;
}

/**
 * About two minutes in all (123 s plus jitter): long enough to ride out a receiver's restart or
 * deployment, short enough that the stale check (every minute) starts a fresh delivery soon after.
 */
export const defaultRetrySchedule: RetrySchedule = {
  delaysMs: [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000],
  jitter: 0.2,
};

export interface WebhookOptions {
  /** Per POST. Default 10 s. */
  timeoutMs?: number;
  /** Default defaultRetrySchedule; tests pass a short one. */
  schedule?: RetrySchedule;
}

/**
 * Posts to an incoming-webhook URL. The body has Slack's `text` (so a Slack or Mattermost webhook
 * works as is) plus the fields a program would want. A failed POST (an error status, a refused
 * connection, a timeout) is retried in the background on the schedule; `deliver` never rejects,
 * so a notification problem cannot fail a backup or crash the worker.
 */
export class Webhook {
  private readonly closing = new AbortController();
  private readonly pending = new Set<Notification>();
  private readonly timeoutMs: number;
  private readonly schedule: RetrySchedule;

  constructor(
    private readonly url: string | undefined,
    private readonly logger: Logger,
    options: WebhookOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.schedule = options.schedule ?? defaultRetrySchedule;
  }

  get configured(): boolean {
    return Boolean(this.url);
  }

  /**
   * Resolves true once a POST is answered with 2xx; false without a URL, when the schedule is
   * used up, or when the webhook is closed first. Callers that must not wait do not await it.
   */
  async deliver(notification: Notification): Promise<boolean> {
    if (!this.url) return false;
    if (this.closing.signal.aborted) {
      this.abandoned(notification);
      return false;
    }
    this.pending.add(notification);
    try {
      for (let attempt = 0; ; attempt++) {
        if (await this.post(this.url, notification, attempt)) return true;
        const delay = this.schedule.delaysMs[attempt];
        if (delay === undefined) {
          this.logger.error(
            { event: notification.event, target: notification.target, attempts: attempt + 1 },
            'webhook delivery given up: every attempt failed',
          );
          return false;
        }
        const spread = 1 + this.schedule.jitter * (2 * Math.random() - 1);
        await sleep(Math.round(delay * spread), undefined, { signal: this.closing.signal });
      }
    } catch {
      // Only the sleep throws, when close() aborts it; close() logs what it abandons.
      return false;
    } finally {
      this.pending.delete(notification);
    }
  }

  /** Stops every retry (at shutdown); each abandoned notification is logged. */
  close(): void {
    for (const notification of this.pending) this.abandoned(notification);
    this.closing.abort();
  }

  private abandoned(notification: Notification): void {
    this.logger.warn(
      { event: notification.event, target: notification.target },
      'webhook delivery abandoned at shutdown',
    );
  }

  private async post(url: string, notification: Notification, attempt: number): Promise<boolean> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...notification, service: 'pgbackup', at: new Date().toISOString() }),
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.closing.signal]),
      });
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return true;
      this.logger.warn(
        { status: response.status, event: notification.event, attempt: attempt + 1 },
        'webhook answered with an error status',
      );
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message, event: notification.event, attempt: attempt + 1 },
        'webhook could not be sent',
      );
    }
    return false;
  }
}
