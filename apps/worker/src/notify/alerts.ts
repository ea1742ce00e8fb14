import { type BackupConfig, type Logger, listBackups, verificationState } from '@pgbackup/backup-core';
import { failureCodeOf } from '@pgbackup/queue';
import type { Redis } from 'ioredis';
import type { Webhook } from './webhook.js';

/**
 * Alert state lives in Redis so that several workers send each alert once: a target is
 * "failing" from its final failure until its next verified backup (then a recovery is sent),
 * and "stale" while it has had no verified backup for longer than its schedule allows.
 */
export class Alerts {
  constructor(
    private readonly config: BackupConfig,
    private readonly redis: Redis,
    private readonly webhook: Webhook,
    private readonly logger: Logger,
  ) {}

  private key(kind: 'failing' | 'stale' | 'first-seen', target: string): string {
    return `${this.config.redis.prefix}:alerts:${kind}:${target}`;
  }

  async targetFailed(
    target: string,
    jobName: string,
    jobId: string | undefined,
    reason: string,
    attempts: number,
  ): Promise<void> {
    const code = failureCodeOf(reason);
    await this.redis.set(
      this.key('failing', target),
      JSON.stringify({ at: new Date().toISOString(), jobId, reason }),
    );
    this.logger.error({ target, jobId, code }, `${jobName} of ${target} failed for good`);
    await this.webhook.send({
      event: 'failure',
      target,
      ...(code ? { code } : {}),
      ...(jobId ? { jobId } : {}),
      text: `:red_circle: Backup ${jobName} for ${target} failed after ${attempts} attempt(s): ${reason}. Retry with: backupctl retry ${jobId ?? '--all-failed'}`,
    });
  }

  /** After a verified backup: a recovery notice if the target was failing. */
  async targetSucceeded(target: string): Promise<void> {
    const wasFailing = await this.redis.del(this.key('failing', target));
    await this.redis.del(this.key('stale', target));
    if (wasFailing > 0) {
      this.logger.info({ target }, 'target recovered');
      await this.webhook.send({
        event: 'recovery',
        target,
        text: `:large_green_circle: Backups of ${target} recovered: a new backup was verified.`,
      });
    }
  }

  /**
   * A copy that failed for good: its own event, since the backup itself is fine and only the
   * offsite copy is missing (the local retention keeps it meanwhile).
   */
  async copyFailed(
    target: string,
    destination: string,
    jobId: string | undefined,
    reason: string,
    attempts: number,
  ): Promise<void> {
    const code = failureCodeOf(reason);
    await this.redis.hincrby(
      `${this.config.redis.prefix}:copies:failures`,
      `${target}\u0000${destination}\u0000${code ?? 'INTERNAL'}`,
      1,
    );
    this.logger.error(
      { target, destination, jobId, code },
      `copy of ${target} to ${destination} failed for good`,
    );
    await this.webhook.send({
      event: 'copy_failed',
      target,
      destination,
      ...(code ? { code } : {}),
      ...(jobId ? { jobId } : {}),
      text: `:red_circle: Offsite copy of ${target} to ${destination} failed after ${attempts} attempt(s): ${reason}. Retry with: backupctl retry ${jobId ?? '--all-failed'}`,
    });
  }

  /** A confirmed copy: its time, for status and metrics (one key per target and destination). */
  async copySucceeded(target: string, destination: string): Promise<void> {
    await this.redis.hset(
      `${this.config.redis.prefix}:copies:last-success`,
      `${target}\u0000${destination}`,
      new Date().toISOString(),
    );
  }

  /** Checks every target's newest verified backup against its maximum age. */
  async checkStaleness(now = new Date()): Promise<string[]> {
    const stale: string[] = [];
    const listing = await listBackups(this.config.backupDir);
    for (const target of this.config.targets) {
      // A new target is given its maximum age from the moment a worker first saw it.
      await this.redis.set(this.key('first-seen', target.name), now.toISOString(), 'NX');
      const firstSeen = Date.parse(
        (await this.redis.get(this.key('first-seen', target.name))) ?? now.toISOString(),
      );
      const newest = listing.entries.find(
        (entry) =>
          entry.manifest.target === target.name && verificationState(entry.manifest).state === 'verified',
      );
      const since = newest ? Date.parse(newest.manifest.createdAt) : firstSeen;
      if (now.getTime() - since <= target.maxAgeMs) continue;
      stale.push(target.name);
      const first = await this.redis.set(this.key('stale', target.name), now.toISOString(), 'NX');
      if (first === 'OK') {
        const hours = ((now.getTime() - since) / 3_600_000).toFixed(1);
        await this.webhook.send({
          event: 'stale',
          target: target.name,
          text: newest
            ? `:warning: ${target.name} has had no verified backup for ${hours} h (newest verified: ${newest.manifest.id}); its schedule allows ${(target.maxAgeMs / 3_600_000).toFixed(1)} h.`
            : `:warning: ${target.name} has never had a verified backup (watched for ${hours} h).`,
        });
      }
    }
    return stale;
  }
}
