import { randomUUID } from 'node:crypto';
import {
  type BackupConfig,
  failureAnswered,
  type Logger,
  type Manifest,
  type TargetConfig,
  type TargetFailure,
  targetHealth,
} from '@pgbackup/backup-core';
import { failureCodeOf, markWatched, watchedSince } from '@pgbackup/queue';
import type { Redis } from 'ioredis';
import type { Notification, Webhook } from './webhook.js';
import { type CatalogReader, catalogOnce } from './whole-catalog.js';

/**
 * How long a worker holds the right to deliver a stale alert: the whole retry schedule (about
 * 2 minutes) with room to spare. A worker that dies while delivering frees it by expiry.
 */
const STALE_CLAIM_MS = 5 * 60_000;

const DELETE_IF_EQUAL = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The failing key's value; undefined when unreadable (an older worker's: then any backup answers). */
function parseFailing(value: string): TargetFailure | undefined {
  try {
    const parsed = JSON.parse(value) as { at?: unknown; backupId?: unknown };
    if (typeof parsed.at !== 'string' || Number.isNaN(Date.parse(parsed.at))) return undefined;
    return {
      at: new Date(parsed.at),
      ...(typeof parsed.backupId === 'string' ? { backupId: parsed.backupId } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Alert state lives in Redis so that several workers send each alert once: a target is
 * "failing" from its final failure until its next verified backup (then a recovery is sent),
 * and "stale" while it has had no verified backup for longer than its schedule allows.
 * Webhooks are delivered in the background (with retries): no method here waits for one.
 * The stale key means "the stale alert was delivered"; it is set only after a delivery succeeded,
 * so an alert whose delivery failed is sent again by a later check.
 */
export class Alerts {
  constructor(
    private readonly config: BackupConfig,
    private readonly redis: Redis,
    private readonly webhook: Webhook,
    private readonly logger: Logger,
    /** Configured and discovered targets (known-targets.ts): every one is watched. */
    private readonly targets: { readonly all: readonly TargetConfig[] },
  ) {}

  private key(kind: 'failing' | 'stale' | 'stale-sending', target: string): string {
    return `${this.config.redis.prefix}:alerts:${kind}:${target}`;
  }

  async targetFailed(
    target: string,
    jobName: string,
    jobId: string | undefined,
    reason: string,
    attempts: number,
    /** The backup the failed job was about (a verify's), if any: verifying it again answers it. */
    backupId?: string,
  ): Promise<void> {
    const code = failureCodeOf(reason);
    await this.redis.set(
      this.key('failing', target),
      JSON.stringify({ at: new Date().toISOString(), jobId, reason, ...(backupId ? { backupId } : {}) }),
    );
    this.logger.error({ target, jobId, code }, `${jobName} of ${target} failed for good`);
    this.send({
      event: 'failure',
      target,
      ...(code ? { code } : {}),
      ...(jobId ? { jobId } : {}),
      text: `:red_circle: Backup ${jobName} for ${target} failed after ${attempts} attempt(s): ${reason}. Retry with: backupctl retry ${jobId ?? '--all-failed'}`,
    });
  }

  /**
   * A restore that failed for good: its own event, and the target is not marked failing (a
   * restore replaces another database; it says nothing of the target's backups). A restore is
   * never retried (`backupctl retry` refuses it), so the text gives the command that runs a new
   * one, without `--force`: the operator decides again.
   */
  restoreFailed(
    target: string,
    jobId: string | undefined,
    reason: string,
    what: string,
    again: string,
  ): void {
    const code = failureCodeOf(reason);
    this.logger.error({ target, jobId, code }, `restore of ${what} failed`);
    this.send({
      event: 'restore_failed',
      target,
      ...(code ? { code } : {}),
      ...(jobId ? { jobId } : {}),
      text:
        code === 'RESTORE_ALREADY_RAN'
          ? // Another worker took the job over (its first worker lost Redis for longer than the
            // job's lock) and was refused: the first run may still be running, or have finished.
            `:warning: Restore of ${what}: a second run of the job was refused (${reason}). The first run's outcome is not known here: it may still be running or have succeeded. Check the database and the job's run log before running \`${again}\`.`
          : `:red_circle: Restore of ${what} failed: ${reason}. A restore is not retried; to run it again: ${again}`,
    });
  }

  /**
   * After a backup was verified: a recovery notice if the target was failing and this backup
   * answers the failure (failureAnswered, the rule `status` uses): one taken after it, or the
   * failed verification's own backup. Verifying an older backup again the morning after a failed
   * dump leaves the target failing, and sends nothing.
   */
  async targetSucceeded(
    target: string,
    verified: Pick<Manifest, 'id' | 'createdAt'>,
    verifiedAt: string,
  ): Promise<void> {
    // The stale alert is answered by any verified backup the stale check sees: its own rule.
    // An undelivered stale alert is not delivered late either: its claim goes with the key.
    await this.redis.del(this.key('stale', target), this.key('stale-sending', target));
    const key = this.key('failing', target);
    const recorded = await this.redis.get(key);
    if (recorded === null) return;
    const failure = parseFailing(recorded);
    if (failure && !failureAnswered(failure, verified, verifiedAt)) return;
    // Deleted only if unchanged: a failure recorded meanwhile by another worker stays.
    const wasFailing = await this.redis.eval(DELETE_IF_EQUAL, 1, key, recorded);
    if (Number(wasFailing) > 0) {
      this.logger.info({ target }, 'target recovered');
      this.send({
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
    this.send({
      event: 'copy_failed',
      target,
      destination,
      ...(code ? { code } : {}),
      ...(jobId ? { jobId } : {}),
      text: `:red_circle: Offsite copy of ${target} to ${destination} failed after ${attempts} attempt(s): ${reason}. Retry with: backupctl retry ${jobId ?? '--all-failed'}`,
    });
  }

  /** A database a server target backs up from now on (announced once: discovery-registry.ts). */
  databaseDiscovered(server: string, target: string, database: string): void {
    this.logger.info(
      { server, target, database },
      `discovered database ${JSON.stringify(database)} on ${server}: backed up as ${target}`,
    );
    this.send({
      event: 'discovered',
      server,
      target,
      database,
      text: `:new: Database ${JSON.stringify(database)} found on ${server}: backed up as ${target} from this run on.`,
    });
  }

  /** A database gone from its server: no more dumps, its backups stay under retention. */
  databaseVanished(server: string, target: string, database: string): void {
    this.logger.warn(
      { server, target, database },
      `database ${JSON.stringify(database)} vanished from ${server}: ${target} is no longer backed up`,
    );
    this.send({
      event: 'vanished',
      server,
      target,
      database,
      text: `:warning: Database ${JSON.stringify(database)} is no longer on ${server}: ${target} is not backed up any more; its backups are kept under its retention.`,
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

  /** Checks every target against the health rule (targetHealth): alerts once per stale spell. */
  async checkStaleness(
    now = new Date(),
    readCatalog: CatalogReader = catalogOnce(this.config, () => this.targets.all, this.logger, 'stale check'),
  ): Promise<string[]> {
    const stale: string[] = [];
    // The catalog status and the dashboard judge: with retention 0 the buckets', and only whole.
    const catalog = await readCatalog();
    if (!catalog) return stale;
    const listing = { entries: catalog.backups };
    const prefix = this.config.redis.prefix;
    await markWatched(
      this.redis,
      prefix,
      this.targets.all.map((target) => target.name),
      now,
    );
    const watched = await watchedSince(this.redis, prefix);
    for (const target of this.targets.all) {
      // A server target has no backups of its own: its databases are targets of their own.
      if (target.discover) continue;
      const watchedFrom = watched.get(target.name);
      const health = targetHealth({
        maxAgeMs: target.maxAgeMs,
        manifests: listing.entries
          .filter((entry) => entry.manifest.target === target.name)
          .map((entry) => entry.manifest),
        now,
        watchedSince: watchedFrom,
      });
      if (!health.stale) continue;
      stale.push(target.name);
      if (await this.redis.exists(this.key('stale', target.name))) continue;
      const newest = health.lastVerified;
      const since = newest ? Date.parse(newest.createdAt) : (watchedFrom ?? now).getTime();
      const hours = ((now.getTime() - since) / 3_600_000).toFixed(1);
      this.sendStale(target.name, now, {
        event: 'stale',
        target: target.name,
        text: newest
          ? `:warning: ${target.name} has had no verified backup for ${hours} h (newest verified: ${newest.id}); its schedule allows ${(target.maxAgeMs / 3_600_000).toFixed(1)} h.`
          : `:warning: ${target.name} has never had a verified backup (watched for ${hours} h).`,
      });
    }
    return stale;
  }

  private readonly staleDeliveries = new Set<Promise<void>>();

  /** Abandons deliveries still retrying (at shutdown); resolves once their claims are released. */
  async close(): Promise<void> {
    this.webhook.close();
    await Promise.all(this.staleDeliveries);
  }

  private send(notification: Notification): void {
    void this.webhook.deliver(notification);
  }

  /**
   * One worker at a time delivers a target's stale alert (the claim); the stale key is set only
   * once the receiver accepted it, and only if the claim is still this delivery's (a verified
   * backup in the meantime deletes both).
   */
  private sendStale(target: string, now: Date, notification: Notification): void {
    if (!this.webhook.configured) return;
    const claim = this.key('stale-sending', target);
    const token = randomUUID();
    const delivery = (async () => {
      if ((await this.redis.set(claim, token, 'PX', STALE_CLAIM_MS, 'NX')) !== 'OK') return;
      const delivered = await this.webhook.deliver(notification);
      if ((await this.redis.get(claim)) !== token) return;
      if (delivered) await this.redis.set(this.key('stale', target), now.toISOString());
      // Undelivered: released, so the next check (this worker or another) starts again.
      await this.redis.del(claim);
    })()
      .catch((error) =>
        this.logger.warn({ err: (error as Error).message, target }, 'stale alert bookkeeping failed'),
      )
      .finally(() => this.staleDeliveries.delete(delivery));
    this.staleDeliveries.add(delivery);
  }
}
