import { BackupError, findTarget, type TargetConfig } from '@pgbackup/backup-core';
import { findDiscoveredTarget, withDiscoveredTargets } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';

/**
 * The target a job names: a configured one, or a database a server target discovered (whichever
 * worker discovered it: the set lives in Redis, discovery-registry.ts). A vanished database is
 * still found, so that its backups can be verified and pruned under its server's retention.
 */
export async function resolveTarget(
  ctx: WorkerContext,
  name: string,
): Promise<TargetConfig & { vanished?: boolean }> {
  const configured = ctx.config.targets.find((target) => target.name === name);
  if (configured) return configured;
  const discovered = await findDiscoveredTarget(ctx.redis, ctx.config, name);
  if (discovered) return discovered;
  return findTarget(ctx.config, name);
}

/** Like resolveTarget, undefined instead of TARGET_UNKNOWN (a backup may outlive its target). */
export async function resolveTargetIfKnown(
  ctx: WorkerContext,
  name: string,
): Promise<TargetConfig | undefined> {
  try {
    return await resolveTarget(ctx, name);
  } catch (error) {
    if (error instanceof BackupError && error.code === 'TARGET_UNKNOWN') return undefined;
    throw error;
  }
}

/**
 * Brings this worker's target list (which alerts and /readyz read) up to date with the databases
 * every server target has discovered: each configured target, then each present database. The
 * list object is replaced, never edited, so a reader in the middle of a loop keeps a whole one.
 */
export async function syncDiscoveredTargets(ctx: WorkerContext): Promise<void> {
  const configured = ctx.config.targets.filter((target) => target.server === undefined);
  ctx.config.targets = await withDiscoveredTargets(ctx.redis, { ...ctx.config, targets: configured });
}
