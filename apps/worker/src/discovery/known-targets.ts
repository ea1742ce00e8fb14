import { type BackupConfig, BackupError, findTarget, type TargetConfig } from '@pgbackup/backup-core';
import { findDiscoveredTarget, withDiscoveredTargets } from '@pgbackup/queue';
import type { Redis } from 'ioredis';

/**
 * The targets this worker knows: the configured ones (as parsed, never edited) and the databases
 * every server target has discovered (whichever worker discovered them: the set lives in Redis,
 * discovery-registry.ts). Configuration and discovery both feed it; nothing writes back into the
 * configuration.
 */
export class KnownTargets {
  private known: readonly TargetConfig[];

  constructor(
    private readonly redis: Redis,
    private readonly config: BackupConfig,
  ) {
    this.known = config.targets;
  }

  /**
   * Every target as of the last refresh: each configured one, then each server's globals and its
   * present databases. Alerts, drill budgets, /readyz and the restore's protected databases read it.
   */
  get all(): readonly TargetConfig[] {
    return this.known;
  }

  /** Reads the discovered sets again. The list is replaced, never edited: a reader keeps a whole one. */
  async refresh(): Promise<void> {
    this.known = await withDiscoveredTargets(this.redis, this.config);
  }

  /**
   * The target a job names: a configured one, or a discovered database. A vanished database is
   * still found, so that its backups can be verified and pruned under its server's retention.
   */
  async resolve(name: string): Promise<TargetConfig & { vanished?: boolean }> {
    const configured = this.config.targets.find((target) => target.name === name);
    if (configured) return configured;
    const discovered = await findDiscoveredTarget(this.redis, this.config, name);
    if (discovered) return discovered;
    return findTarget(this.config, name);
  }

  /** Like resolve, undefined instead of TARGET_UNKNOWN (a backup may outlive its target). */
  async resolveIfKnown(name: string): Promise<TargetConfig | undefined> {
    try {
      return await this.resolve(name);
    } catch (error) {
      if (error instanceof BackupError && error.code === 'TARGET_UNKNOWN') return undefined;
      throw error;
    }
  }
}
