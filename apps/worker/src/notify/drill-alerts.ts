import {
  type BackupConfig,
  defaultMaxAgeMs,
  drillStatus,
  type Logger,
  type TargetConfig,
} from '@pgbackup/backup-core';
import { failureCodeOf, watchedSince } from '@pgbackup/queue';
import type { Redis } from 'ioredis';
import type { Webhook } from './webhook.js';
import { type CatalogReader, catalogOnce } from './whole-catalog.js';

/**
 * The drill alerts, apart from the backup alerts (alerts.ts): a failed or late drill says the
 * recovery is in doubt, not that backups stopped, so it neither marks the target failing nor
 * waits for a verified backup to recover.
 * - `drill_failed`: a drill job failed for good (a backup that does not restore, or a drill
 *   server that stayed down through every attempt);
 * - `drill_rto_exceeded`: a drill restored, but slower than BACKUP_DRILL_MAX_RTO;
 * - `drill_stale`: no successful drill of a target within two drill periods (once per spell).
 */
export class DrillAlerts {
  constructor(
    private readonly config: BackupConfig,
    private readonly redis: Redis,
    private readonly webhook: Webhook,
    private readonly logger: Logger,
    /** Configured and discovered targets (known-targets.ts): every one is watched. */
    private readonly targets: { readonly all: readonly TargetConfig[] },
  ) {}

  private staleKey(target: string): string {
    return `${this.config.redis.prefix}:alerts:drill-stale:${target}`;
  }

  drillFailed(target: string, jobId: string | undefined, reason: string, attempts: number): void {
    const code = failureCodeOf(reason);
    this.logger.error({ target, jobId, code }, `drill of ${target} failed for good`);
    void this.webhook.deliver({
      event: 'drill_failed',
      target,
      ...(code ? { code } : {}),
      ...(jobId ? { jobId } : {}),
      text: `:red_circle: Restore drill of ${target} failed after ${attempts} attempt(s): ${reason}. Retry with: backupctl retry ${jobId ?? '--all-failed'}`,
    });
  }

  rtoExceeded(target: string, backupId: string, restoreMs: number, maxRtoMs: number): void {
    this.logger.warn({ target, backupId, restoreMs, maxRtoMs }, `drill of ${target} exceeded the max RTO`);
    void this.webhook.deliver({
      event: 'drill_rto_exceeded',
      target,
      text: `:warning: Restore drill of ${target} (backup ${backupId}) took ${seconds(restoreMs)}, more than BACKUP_DRILL_MAX_RTO (${seconds(maxRtoMs)}): a restore would take that long.`,
    });
  }

  /** After a successful drill: a later stale spell alerts again. */
  async drillSucceeded(target: string): Promise<void> {
    await this.redis.del(this.staleKey(target));
  }

  /**
   * Targets with a drill server whose last successful drill (or, without one, the moment a worker
   * first watched them) is older than two drill periods; alerts once per spell.
   */
  async checkStaleness(
    now = new Date(),
    readCatalog: CatalogReader = catalogOnce(
      this.config,
      () => this.targets.all,
      this.logger,
      'drill staleness check',
    ),
  ): Promise<string[]> {
    const drilled = this.targets.all.filter((target) => target.drill.server !== undefined);
    if (drilled.length === 0) return [];
    // The catalog the metrics and the dashboard read: with retention 0 the buckets', whose
    // manifest objects hold the drills of backups kept only there; and only whole.
    const catalog = await readCatalog();
    if (!catalog) return [];
    const listing = { entries: catalog.backups };
    const watched = await watchedSince(this.redis, this.config.redis.prefix);
    const stale: string[] = [];
    for (const target of drilled) {
      const status = drillStatus(
        listing.entries.filter((e) => e.manifest.target === target.name).map((e) => e.manifest),
      );
      const since = status.lastSuccess ? new Date(status.lastSuccess.at) : (watched.get(target.name) ?? now);
      // Two periods of the drill schedule (and an hour of slack), as BACKUP_MAX_AGE is for dumps.
      const limitMs = defaultMaxAgeMs(target.drill.schedule, target.timeZone, since);
      if (now.getTime() - since.getTime() <= limitMs) continue;
      stale.push(target.name);
      if ((await this.redis.set(this.staleKey(target.name), now.toISOString(), 'NX')) !== 'OK') continue;
      const what = status.lastSuccess
        ? `its last successful drill was at ${status.lastSuccess.at}`
        : 'it has never had a successful drill';
      void this.webhook.deliver({
        event: 'drill_stale',
        target: target.name,
        text: `:warning: No successful restore drill of ${target.name} within two drill periods: ${what}. Run one: backupctl drill --target ${target.name}`,
      });
    }
    return stale;
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
