import { Writable } from 'node:stream';
import { createLogger } from '@pgbackup/backup-core';
import { waitFor } from '@pgbackup/testkit';
import { afterEach, expect, it } from 'vitest';
import { freePort, type WebhookReceiver, webhookReceiver } from '../test-support/webhook-receiver.js';
import { type Notification, type RetrySchedule, Webhook } from './webhook.js';

const receivers: WebhookReceiver[] = [];
const webhooks: Webhook[] = [];
afterEach(async () => {
  for (const webhook of webhooks.splice(0)) webhook.close();
  for (const receiver of receivers.splice(0)) await receiver.close();
});

const notification: Notification = { event: 'failure', target: 'app', text: 'the dump failed' };
// The default schedule's shape (doubling, with jitter) at a fiftieth of its length.
const fast: RetrySchedule = { delaysMs: [20, 40, 80, 160, 320, 640, 1_200], jitter: 0.2 };

function capturedWebhook(url: string, schedule: RetrySchedule): { webhook: Webhook; log: () => string } {
  let log = '';
  const destination = new Writable({
    write(chunk, _encoding, done) {
      log += chunk;
      done();
    },
  });
  const webhook = new Webhook(url, createLogger({ level: 'debug', destination }), { schedule });
  webhooks.push(webhook);
  return { webhook, log: () => log };
}

it('retries a receiver that answers 500 until it accepts: the alert arrives once', async () => {
  const receiver = await webhookReceiver({ failFirst: 3 });
  receivers.push(receiver);
  const { webhook, log } = capturedWebhook(receiver.url, fast);
  expect(await webhook.deliver(notification)).toBe(true);
  expect(receiver.attempts).toBe(4);
  expect(receiver.received).toEqual([expect.objectContaining({ event: 'failure', target: 'app' })]);
  expect(log().match(/webhook answered with an error status/g)).toHaveLength(3);
});

it('retries a refused connection until the receiver comes up: the alert arrives once', async () => {
  const port = await freePort();
  const { webhook, log } = capturedWebhook(`http://127.0.0.1:${port}/hook`, fast);
  const delivery = webhook.deliver(notification);
  await waitFor(
    'two refused attempts',
    async () => (log().match(/webhook could not be sent/g) ?? []).length >= 2,
  );
  const receiver = await webhookReceiver({ port });
  receivers.push(receiver);
  expect(await delivery).toBe(true);
  expect(receiver.received).toHaveLength(1);
  expect(receiver.attempts).toBe(1);
});

it('gives up once the schedule is used up, saying so, without throwing', async () => {
  const port = await freePort();
  const { webhook, log } = capturedWebhook(`http://127.0.0.1:${port}/hook`, {
    delaysMs: [10, 10],
    jitter: 0,
  });
  expect(await webhook.deliver(notification)).toBe(false);
  expect(log().match(/webhook could not be sent/g)).toHaveLength(3);
  expect(log()).toMatch(/"attempts":3.*webhook delivery given up/);
});

it('close() abandons the retries at once, with a log line per abandoned alert', async () => {
  const port = await freePort();
  const { webhook, log } = capturedWebhook(`http://127.0.0.1:${port}/hook`, {
    delaysMs: [60_000],
    jitter: 0,
  });
  const delivery = webhook.deliver(notification);
  await waitFor('the first refused attempt', async () => log().includes('webhook could not be sent'));
  const started = Date.now();
  webhook.close();
  expect(await delivery).toBe(false);
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(log()).toMatch(/"event":"failure".*webhook delivery abandoned at shutdown/);
  // An alert raised after close (a job's last failure during shutdown) is logged the same way.
  expect(await webhook.deliver({ ...notification, event: 'recovery' })).toBe(false);
  expect(log()).toMatch(/"event":"recovery".*webhook delivery abandoned at shutdown/);
});
