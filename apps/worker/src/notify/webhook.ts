import type { Logger } from '@pgbackup/backup-core';

export interface Notification {
  event: 'failure' | 'recovery' | 'stale' | 'copy_failed';
  /** The destination of a copy_failed event. */
  destination?: string;
  target: string;
  text: string;
  code?: string;
  jobId?: string;
}

/**
 * Posts to an incoming-webhook URL. The body has Slack's `text` (so a Slack or Mattermost webhook
 * works as is) plus the fields a program would want. A failing webhook is logged, never fatal:
 * a notification problem must not fail a backup.
 */
export class Webhook {
  constructor(
    private readonly url: string | undefined,
    private readonly logger: Logger,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(notification: Notification): Promise<boolean> {
    if (!this.url) return false;
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...notification, service: 'pgbackup', at: new Date().toISOString() }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) {
        this.logger.warn(
          { status: response.status, event: notification.event },
          'webhook answered with an error status',
        );
        return false;
      }
      return true;
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message, event: notification.event },
        'webhook could not be sent',
      );
      return false;
    }
  }
}
